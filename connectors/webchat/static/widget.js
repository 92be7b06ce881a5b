/* parlez web chat: one <script> tag puts a chat on any page.
 *
 *   <script src="https://your-server/webchat/widget.js" data-title="Ask us"></script>
 *   or ParlezChat.init({ server: "https://your-server", title: "Ask us" })
 *
 * Everything renders inside a Shadow DOM, so the page's CSS and the widget's cannot touch
 * each other. Text from the bot, the visitor and the page is never parsed as HTML: the
 * Markdown subset below builds DOM nodes, and links are limited to http(s), mailto and tel.
 * The socket.io client is a small one over a WebSocket (Engine.IO 4, Socket.IO 5), so the
 * widget needs no other file and stays a few KB.
 */
(function () {
  "use strict";
  if (window.ParlezChat && window.ParlezChat.version) return;

  var currentScript = document.currentScript;
  // The server writes the business's defaults (credentials.yml) here when it serves the file.
  var DEFAULTS = /*DEFAULTS*/{};

  var STRINGS = {
    en: {
      title: "Chat with us", open: "Open the chat", close: "Close the chat", send: "Send",
      placeholder: "Type your message…", attach: "Send a file", end: "End the chat",
      speak: "Speak", stopSpeaking: "Stop and send", listening: "Listening… press the microphone again when you are done.", notHeard: "Sorry, I didn't catch that. Please try again or type your message.", noMicrophone: "The microphone cannot be used on this page.",
      typing: "The assistant is typing…", personTyping: "Someone from our team is typing…", sending: "Sending…", queued: "Waiting for the connection…",
      failed: "Not sent", retry: "Try again", offline: "You are offline. Your messages will be sent when you are back.", refused: "The chat could not sign in. Please reload the page.",
      connecting: "Connecting…", human: "A person from our team is answering you.",
      rate: "How was this conversation?", comment: "Anything to add? (optional)", submit: "Send rating",
      skip: "Skip", thanks: "Thank you for your rating!", restart: "Start a new conversation",
      prechat: "Before we start", name: "Name", email: "E-mail",
      consent: "I agree that this conversation is stored so that you can answer me.",
      start: "Start the chat", tooLong: "This message is too long ({n} characters at most).",
      tooFast: "You are sending messages too fast. Please wait a moment.",
      uploadFailed: "The file could not be sent: {reason}", unread: "{n} new messages",
      sources: "Sources", star: "{n} out of 5", you: "You", bot: "Assistant", agent: "Team",
      transcript: "E-mail me a copy of this conversation (optional)", sent: "A copy is on its way to {email}.", done: "Done"
    },
    fr: {
      title: "Discutons", open: "Ouvrir la discussion", close: "Fermer la discussion", send: "Envoyer",
      placeholder: "Écrivez votre message…", attach: "Envoyer un fichier", end: "Terminer la discussion",
      speak: "Parler", stopSpeaking: "Arrêter et envoyer", listening: "Je vous écoute… appuyez à nouveau sur le micro quand vous avez fini.", notHeard: "Désolé, je n'ai pas compris. Réessayez ou écrivez votre message.", noMicrophone: "Le micro ne peut pas être utilisé sur cette page.",
      typing: "L'assistant écrit…", personTyping: "Une personne de notre équipe écrit…", sending: "Envoi…", queued: "En attente de connexion…",
      failed: "Non envoyé", retry: "Réessayer", offline: "Vous êtes hors ligne. Vos messages partiront à votre retour.", refused: "Le chat n'a pas pu se connecter. Rechargez la page.",
      connecting: "Connexion…", human: "Une personne de notre équipe vous répond.",
      rate: "Comment s'est passée cette discussion ?", comment: "Un commentaire ? (facultatif)",
      submit: "Envoyer la note", skip: "Passer", thanks: "Merci pour votre note !",
      restart: "Nouvelle discussion", prechat: "Avant de commencer", name: "Nom", email: "E-mail",
      consent: "J'accepte que cette discussion soit conservée pour me répondre.",
      start: "Commencer", tooLong: "Ce message est trop long ({n} caractères au plus).",
      tooFast: "Vous envoyez trop de messages. Patientez un instant.",
      uploadFailed: "Le fichier n'a pas pu être envoyé : {reason}", unread: "{n} nouveaux messages",
      sources: "Sources", star: "{n} sur 5", you: "Vous", bot: "Assistant", agent: "Équipe",
      transcript: "Recevoir une copie de la discussion par e-mail (facultatif)", sent: "Une copie part vers {email}.", done: "Terminé"
    },
    de: {
      title: "Schreiben Sie uns", open: "Chat öffnen", close: "Chat schließen", send: "Senden",
      placeholder: "Ihre Nachricht…", attach: "Datei senden", end: "Chat beenden",
      speak: "Sprechen", stopSpeaking: "Beenden und senden", listening: "Ich höre zu… drücken Sie das Mikrofon erneut, wenn Sie fertig sind.", notHeard: "Das habe ich leider nicht verstanden. Versuchen Sie es noch einmal oder schreiben Sie Ihre Nachricht.", noMicrophone: "Das Mikrofon kann auf dieser Seite nicht verwendet werden.",
      typing: "Der Assistent schreibt…", personTyping: "Jemand aus unserem Team schreibt…", sending: "Wird gesendet…", queued: "Warte auf Verbindung…",
      failed: "Nicht gesendet", retry: "Erneut versuchen", offline: "Sie sind offline. Ihre Nachrichten werden gesendet, sobald Sie wieder online sind.", refused: "Der Chat konnte sich nicht anmelden. Bitte laden Sie die Seite neu.",
      connecting: "Verbinde…", human: "Eine Person aus unserem Team antwortet Ihnen.",
      rate: "Wie war dieses Gespräch?", comment: "Möchten Sie etwas ergänzen? (optional)",
      submit: "Bewertung senden", skip: "Überspringen", thanks: "Danke für Ihre Bewertung!",
      restart: "Neues Gespräch beginnen", prechat: "Bevor wir beginnen", name: "Name", email: "E-Mail",
      consent: "Ich bin einverstanden, dass dieses Gespräch gespeichert wird, um mir zu antworten.",
      start: "Chat beginnen", tooLong: "Diese Nachricht ist zu lang (höchstens {n} Zeichen).",
      tooFast: "Sie senden zu viele Nachrichten. Bitte warten Sie einen Moment.",
      uploadFailed: "Die Datei konnte nicht gesendet werden: {reason}", unread: "{n} neue Nachrichten",
      sources: "Quellen", star: "{n} von 5", you: "Sie", bot: "Assistent", agent: "Team",
      transcript: "Eine Kopie des Gesprächs per E-Mail (optional)", sent: "Eine Kopie ist unterwegs an {email}.", done: "Fertig"
    },
    es: {
      title: "Hable con nosotros", open: "Abrir el chat", close: "Cerrar el chat", send: "Enviar",
      placeholder: "Escriba su mensaje…", attach: "Enviar un archivo", end: "Terminar el chat",
      speak: "Hablar", stopSpeaking: "Parar y enviar", listening: "Le escucho… pulse de nuevo el micrófono cuando termine.", notHeard: "Lo siento, no le he entendido. Inténtelo de nuevo o escriba su mensaje.", noMicrophone: "El micrófono no se puede usar en esta página.",
      typing: "El asistente está escribiendo…", personTyping: "Una persona de nuestro equipo está escribiendo…", sending: "Enviando…", queued: "Esperando la conexión…",
      failed: "No enviado", retry: "Reintentar", offline: "Está sin conexión. Sus mensajes se enviarán cuando vuelva.",
      refused: "El chat no pudo iniciar sesión. Vuelva a cargar la página.", connecting: "Conectando…", human: "Una persona de nuestro equipo le está respondiendo.",
      rate: "¿Qué tal fue esta conversación?", comment: "¿Algo que añadir? (opcional)",
      submit: "Enviar valoración", skip: "Omitir", thanks: "¡Gracias por su valoración!",
      restart: "Empezar una conversación nueva", prechat: "Antes de empezar", name: "Nombre",
      email: "Correo electrónico", consent: "Acepto que esta conversación se guarde para responderme.",
      start: "Empezar", tooLong: "Este mensaje es demasiado largo ({n} caracteres como máximo).",
      tooFast: "Está enviando mensajes demasiado rápido. Espere un momento.",
      uploadFailed: "No se pudo enviar el archivo: {reason}", unread: "{n} mensajes nuevos",
      sources: "Fuentes", star: "{n} de 5", you: "Usted", bot: "Asistente", agent: "Equipo",
      transcript: "Enviarme una copia de la conversación (opcional)", sent: "Una copia va de camino a {email}.", done: "Listo"
    },
    ar: {
      title: "تحدث معنا", open: "افتح المحادثة", close: "أغلق المحادثة", send: "إرسال",
      placeholder: "اكتب رسالتك…", attach: "أرسل ملفًا", end: "إنهاء المحادثة",
      speak: "تحدث", stopSpeaking: "توقف وأرسل", listening: "أستمع إليك… اضغط على الميكروفون مرة أخرى عند الانتهاء.", notHeard: "عذرًا، لم أفهم ذلك. حاول مرة أخرى أو اكتب رسالتك.", noMicrophone: "لا يمكن استخدام الميكروفون في هذه الصفحة.",
      typing: "المساعد يكتب…", personTyping: "أحد أعضاء فريقنا يكتب…", sending: "جارٍ الإرسال…", queued: "بانتظار الاتصال…",
      failed: "لم تُرسل", retry: "أعد المحاولة", offline: "أنت غير متصل. سترسل رسائلك عند عودتك.",
      refused: "تعذر على المحادثة تسجيل الدخول. يرجى إعادة تحميل الصفحة.", connecting: "جارٍ الاتصال…", human: "شخص من فريقنا يرد عليك.",
      rate: "كيف كانت هذه المحادثة؟", comment: "هل تود إضافة شيء؟ (اختياري)", submit: "أرسل التقييم",
      skip: "تخطَّ", thanks: "شكرًا على تقييمك!", restart: "ابدأ محادثة جديدة", prechat: "قبل أن نبدأ",
      name: "الاسم", email: "البريد الإلكتروني", consent: "أوافق على حفظ هذه المحادثة للرد علي.",
      start: "ابدأ المحادثة", tooLong: "هذه الرسالة طويلة جدًا ({n} حرفًا على الأكثر).",
      tooFast: "أنت ترسل الرسائل بسرعة كبيرة. انتظر قليلًا.", uploadFailed: "تعذر إرسال الملف: {reason}",
      unread: "{n} رسائل جديدة", sources: "المصادر", star: "{n} من 5", you: "أنت", bot: "المساعد", agent: "الفريق",
      transcript: "أرسل لي نسخة من المحادثة بالبريد (اختياري)", sent: "نسخة في طريقها إلى {email}.", done: "تم"
    },
    he: {
      title: "דברו איתנו", open: "פתיחת הצ'אט", close: "סגירת הצ'אט", send: "שליחה",
      placeholder: "כתבו הודעה…", attach: "שליחת קובץ", end: "סיום השיחה",
      speak: "דברו", stopSpeaking: "עצירה ושליחה", listening: "מקשיב… לחצו שוב על המיקרופון כשתסיימו.", notHeard: "סליחה, לא הבנתי. נסו שוב או כתבו את ההודעה.", noMicrophone: "לא ניתן להשתמש במיקרופון בדף זה.",
      typing: "העוזר מקליד…", personTyping: "מישהו מהצוות שלנו מקליד…", sending: "שולח…", queued: "ממתין לחיבור…",
      failed: "לא נשלח", retry: "נסו שוב", offline: "אין חיבור. ההודעות יישלחו כשהחיבור יחזור.",
      refused: "הצ'אט לא הצליח להתחבר. נא לטעון מחדש את הדף.", connecting: "מתחבר…", human: "נציג מהצוות שלנו עונה לכם.",
      rate: "איך הייתה השיחה?", comment: "רוצים להוסיף משהו? (לא חובה)", submit: "שליחת דירוג",
      skip: "דילוג", thanks: "תודה על הדירוג!", restart: "התחלת שיחה חדשה", prechat: "לפני שנתחיל",
      name: "שם", email: "דוא\"ל", consent: "אני מסכים/ה שהשיחה תישמר כדי לענות לי.",
      start: "התחלת השיחה", tooLong: "ההודעה ארוכה מדי (עד {n} תווים).",
      tooFast: "אתם שולחים הודעות מהר מדי. המתינו רגע.", uploadFailed: "לא ניתן היה לשלוח את הקובץ: {reason}",
      unread: "{n} הודעות חדשות", sources: "מקורות", star: "{n} מתוך 5", you: "אתם", bot: "העוזר", agent: "הצוות",
      transcript: "שלחו לי עותק של השיחה בדוא\"ל (לא חובה)", sent: "עותק בדרך אל {email}.", done: "סיום"
    }
  };
  var RTL = { ar: 1, he: 1, fa: 1, ur: 1 };

  function pickLanguage(wanted) {
    var tries = [wanted, navigator.language, "en"];
    for (var i = 0; i < tries.length; i++) {
      var code = String(tries[i] || "").toLowerCase().split("-")[0];
      if (STRINGS[code]) return code;
    }
    return "en";
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return (Date.now().toString(16) + Math.random().toString(16).slice(2)).slice(0, 32);
  }

  // ---------------------------------------------------------------- storage (never throws)
  function Store(prefix) { this.prefix = prefix; }
  Store.prototype.get = function (key, fallback) {
    try {
      var raw = window.localStorage.getItem(this.prefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  };
  Store.prototype.set = function (key, value) {
    try { window.localStorage.setItem(this.prefix + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  };
  Store.prototype.remove = function (key) {
    try { window.localStorage.removeItem(this.prefix + key); } catch (e) { /* private mode */ }
  };

  // ---------------------------------------------------------------- socket.io over a WebSocket
  function Connection(server, path, onEvent, onState, authorize) {
    this.url = server.replace(/^http/, "ws") + path + "/?EIO=4&transport=websocket";
    this.onEvent = onEvent;
    this.onState = onState;
    // authorize(done): done({token: ...}) for a server with `jwt_key`, done(null) without
    this.authorize = authorize;
    this.acks = {};
    this.nextAck = 1;
    this.delay = 500;
    this.ready = false;
    this.stopped = false;
  }
  Connection.prototype.connect = function () {
    var self = this;
    if (self.ws || self.stopped) return;
    self.onState("connecting");
    var ws;
    try { ws = new WebSocket(self.url); } catch (e) { self.retry(); return; }
    self.ws = ws;
    ws.onmessage = function (event) { self.receive(String(event.data)); };
    ws.onclose = function () { self.dropped(ws); };
    ws.onerror = function () { try { ws.close(); } catch (e) { /* closing anyway */ } };
  };
  Connection.prototype.receive = function (data) {
    var type = data.charAt(0);
    if (type === "0") {
      var open = JSON.parse(data.slice(1));
      this.pingWait = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      this.watch();
      var self = this, ws = this.ws;
      this.authorize(function (auth) {
        if (self.ws === ws) ws.send("40" + (auth ? JSON.stringify(auth) : ""));
      });
    } else if (type === "2") {
      this.watch();
      this.ws.send("3");
    } else if (type === "4") {
      var kind = data.charAt(1);
      var body = data.slice(2);
      if (kind === "0") {
        this.ready = true;
        this.delay = 500;
        this.onState("online");
      } else if (kind === "2" || kind === "3") {
        var match = /^(\d*)([\s\S]*)$/.exec(body);
        var args = JSON.parse(match[2]);
        if (kind === "3") {
          var ack = this.acks[match[1]];
          delete this.acks[match[1]];
          if (ack) ack(args[0]);
        } else {
          this.onEvent(args[0], args[1]);
        }
      } else if (kind === "4") {
        // The server refused the token: a page that can fetch a fresh one gets to try again.
        this.onState("refused");
        if (this.authorize.refreshes) this.ws.close();
        else this.stop();
      } else if (kind === "1") {
        this.ws.close();
      }
    }
  };
  Connection.prototype.watch = function () {
    var self = this;
    clearTimeout(self.pingTimer);
    // No ping for too long: the connection is dead even if the browser has not noticed.
    self.pingTimer = setTimeout(function () { if (self.ws) self.ws.close(); }, self.pingWait || 45000);
  };
  Connection.prototype.dropped = function (ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    clearTimeout(this.pingTimer);
    // Unanswered messages stay in the outbox and go again after the reconnect.
    var acks = this.acks;
    this.acks = {};
    for (var id in acks) acks[id](null);
    this.onState(navigator.onLine === false ? "offline" : "connecting");
    this.retry();
  };
  Connection.prototype.retry = function () {
    var self = this;
    if (self.stopped) return;
    clearTimeout(self.retryTimer);
    var wait = self.delay * (0.75 + Math.random() / 2);
    self.delay = Math.min(self.delay * 2, 15000);
    self.retryTimer = setTimeout(function () { self.connect(); }, wait);
  };
  Connection.prototype.now = function () {
    this.delay = 500;
    clearTimeout(this.retryTimer);
    this.connect();
  };
  Connection.prototype.emit = function (event, data, ack) {
    if (!this.ready) return false;
    var id = "";
    if (ack) { id = String(this.nextAck++); this.acks[id] = ack; }
    this.ws.send("42" + id + JSON.stringify([event, data]));
    return true;
  };
  Connection.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pingTimer);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
  };

  // ---------------------------------------------------------------- safe Markdown to DOM
  function safeUrl(url, base) {
    try {
      var parsed = new URL(String(url), base);
      return /^(https?:|mailto:|tel:)$/.test(parsed.protocol) ? parsed.href : null;
    } catch (e) { return null; }
  }

  // **bold**, *italics*, `code`, [label](url) and bare links; underscores are left alone, as
  // names like snake_case are more common in chat than underscore emphasis.
  var INLINE = /(\*\*([^*]+)\*\*)|(\*([^*\s][^*]*)\*)|(`([^`]+)`)|(\[([^\]]+)\]\(([^)\s]+)\))|(https?:\/\/[^\s<]+[^\s<.,;:!?)\]'"])/;

  function inline(parent, text, base) {
    while (text) {
      var m = INLINE.exec(text);
      if (!m) { parent.appendChild(document.createTextNode(text)); return; }
      if (m.index) parent.appendChild(document.createTextNode(text.slice(0, m.index)));
      var node;
      if (m[1]) { node = document.createElement("strong"); inline(node, m[2], base); }
      else if (m[3]) { node = document.createElement("em"); inline(node, m[4], base); }
      else if (m[5]) { node = document.createElement("code"); node.textContent = m[6]; }
      else {
        var label = m[7] ? m[8] : m[10];
        var href = safeUrl(m[7] ? m[9] : m[10], base);
        if (href) {
          node = document.createElement("a");
          node.href = href;
          node.target = "_blank";
          node.rel = "noopener noreferrer";
          node.textContent = label;
        } else {
          node = document.createTextNode(label);
        }
      }
      parent.appendChild(node);
      text = text.slice(m.index + m[0].length);
    }
  }

  function markdown(text, base) {
    var out = document.createDocumentFragment();
    var blocks = String(text).replace(/\r\n?/g, "\n").split(/\n{2,}/);
    blocks.forEach(function (block) {
      var lines = block.split("\n");
      var bullet = lines.every(function (l) { return /^\s*[-*•]\s+/.test(l); });
      var numbered = lines.every(function (l) { return /^\s*\d+[.)]\s+/.test(l); });
      if (bullet || numbered) {
        var list = document.createElement(bullet ? "ul" : "ol");
        lines.forEach(function (line) {
          var item = document.createElement("li");
          inline(item, line.replace(/^\s*([-*•]|\d+[.)])\s+/, ""), base);
          list.appendChild(item);
        });
        out.appendChild(list);
      } else {
        var p = document.createElement("p");
        lines.forEach(function (line, i) {
          if (i) p.appendChild(document.createElement("br"));
          inline(p, line, base);
        });
        out.appendChild(p);
      }
    });
    return out;
  }

  // ---------------------------------------------------------------- the widget
  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".root{position:fixed;bottom:20px;z-index:2147483000;--c:#2f5bea;color:#1d2330;font-size:15px;line-height:1.4}",
    ".right{right:20px}.left{left:20px}",
    "button{font:inherit;cursor:pointer}",
    ":focus-visible{outline:3px solid #ffb020;outline-offset:2px}",
    ".launcher{width:60px;height:60px;border-radius:50%;border:0;background:var(--c);color:#fff;box-shadow:0 4px 16px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;position:relative}",
    ".launcher svg{width:28px;height:28px;fill:currentColor}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;border-radius:11px;background:#e02424;color:#fff;font-size:12px;font-weight:700;display:flex;align-items:center;justify-content:center;padding:0 6px}",
    ".panel{position:absolute;bottom:76px;width:370px;height:min(600px,calc(100vh - 110px));background:#fff;border-radius:16px;box-shadow:0 8px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}",
    ".right .panel{right:0}.left .panel{left:0}",
    "[hidden]{display:none!important}",
    ".head{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:10px}",
    ".head img{width:36px;height:36px;border-radius:50%;object-fit:cover;background:#fff}",
    ".head .t{flex:1;min-width:0}.head h2{margin:0;font-size:16px;font-weight:650}.head .s{font-size:12px;opacity:.9}",
    ".icon{background:transparent;border:0;color:inherit;width:34px;height:34px;border-radius:8px;display:flex;align-items:center;justify-content:center}",
    ".icon:hover{background:rgba(255,255,255,.18)}.icon svg{width:20px;height:20px;fill:currentColor}",
    ".note{padding:8px 14px;font-size:13px;background:#fff7e0;border-bottom:1px solid #f1e2b0}",
    ".note.human{background:#e8f6ee;border-color:#bfe5cd}",
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f6f7fb}",
    ".msg{max-width:85%;display:flex;flex-direction:column;gap:4px}",
    ".msg.user{align-self:flex-end;align-items:flex-end}.msg.bot{align-self:flex-start}",
    ".bubble{padding:9px 12px;border-radius:14px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-wrap:anywhere}",
    ".user .bubble{background:var(--c);color:#fff}.user .bubble a{color:#fff}",
    ".human .bubble{border:2px solid #3aa76d}",
    ".bubble p{margin:0 0 6px}.bubble p:last-child{margin:0}.bubble ul,.bubble ol{margin:0;padding-inline-start:20px}",
    ".bubble code{background:rgba(0,0,0,.07);padding:0 3px;border-radius:3px;font-family:ui-monospace,monospace}",
    ".bubble img,.card img{max-width:100%;border-radius:8px;display:block}",
    ".meta{font-size:11px;color:#6b7280}",
    ".failed .meta{color:#c81e1e}",
    ".sources{font-size:12px;color:#4b5563}.sources a{color:inherit}",
    ".choices{display:flex;flex-wrap:wrap;gap:6px}",
    ".choices button,.card button{border:1.5px solid var(--c);color:var(--c);background:#fff;border-radius:16px;padding:5px 12px}",
    ".choices button:disabled{opacity:.5;cursor:default}",
    ".cards{display:flex;gap:8px;overflow-x:auto;max-width:100%}",
    ".card{min-width:200px;max-width:220px;background:#fff;border-radius:12px;padding:8px;box-shadow:0 1px 3px rgba(0,0,0,.1);display:flex;flex-direction:column;gap:6px}",
    ".card b{font-size:14px}.card span{font-size:13px;color:#4b5563}",
    ".typing{align-self:flex-start;background:#fff;border-radius:14px;padding:10px 14px;display:flex;gap:4px}",
    ".typing i{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:b 1.2s infinite}",
    ".typing i:nth-child(2){animation-delay:.2s}.typing i:nth-child(3){animation-delay:.4s}",
    "@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.typing i{animation:none}}",
    ".bar{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    ".bar textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:8px 10px;font:inherit;max-height:120px;min-height:38px}",
    ".bar .icon{color:#4b5563}.bar .icon:hover{background:#f3f4f6}",
    ".bar .mic.on{color:#fff;background:#dc2626;animation:pz-rec 1.2s ease-in-out infinite}",
    "@keyframes pz-rec{50%{opacity:.6}}",
    ".bar .go{color:var(--c)}",
    ".bar textarea:focus-visible{outline:2px solid var(--c);outline-offset:0}",
    "[dir=rtl] .go svg{transform:scaleX(-1)}",
    ".open .launcher .i-chat,.launcher .i-close{display:none}.open .launcher .i-close{display:block}",
    ".form{padding:16px;display:flex;flex-direction:column;gap:10px;overflow-y:auto}",
    ".form h3{margin:0;font-size:16px}",
    ".form label{display:flex;flex-direction:column;gap:4px;font-size:13px}",
    ".form label.check{flex-direction:row;align-items:flex-start;gap:8px}",
    ".form input[type=text],.form input[type=email],.form textarea{border:1px solid #d1d5db;border-radius:8px;padding:8px;font:inherit}",
    ".form .primary{background:var(--c);color:#fff;border:0;border-radius:10px;padding:9px 14px}",
    ".form .plain{background:none;border:0;color:#4b5563;text-decoration:underline}",
    ".stars{display:flex;gap:4px}.stars button{border:0;background:none;font-size:30px;color:#d1d5db;padding:0 2px;line-height:1}",
    ".stars button[aria-checked=true],.stars button.lit{color:#f5a524}",
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.root.open{inset:0}.root.open .launcher{display:none}.root.open .panel{position:fixed;inset:0;width:100%;height:100%;border-radius:0}}"
  ].join("\n");

  var ICONS = {
    chat: "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z",
    close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z",
    send: "M2 21 23 12 2 3v7l15 2-15 2z",
    mic: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z",
    clip: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z",
    end: "M12 9c-1.6 0-3.2.3-4.6.7v3.1c0 .4-.2.7-.6.9-1 .5-1.9 1.1-2.7 1.9a1 1 0 0 1-1.4 0L.3 13.2a1 1 0 0 1 0-1.4C3.4 8.9 7.5 7.3 12 7.3s8.6 1.6 11.7 4.5a1 1 0 0 1 0 1.4l-2.4 2.4a1 1 0 0 1-1.4 0c-.8-.8-1.7-1.4-2.7-1.9a1 1 0 0 1-.6-.9V9.7C15.2 9.3 13.6 9 12 9z"
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "i-" + name);
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function Chat(options) {
    var o = this.options = {};
    for (var key in DEFAULTS) o[key] = DEFAULTS[key];
    for (key in options) if (options[key] !== undefined && options[key] !== "") o[key] = options[key];
    this.server = String(o.server || "").replace(/\/+$/, "");
    this.lang = pickLanguage(o.language);
    this.t = STRINGS[this.lang];
    this.store = new Store("parlez-chat:" + (o.storageKey || this.server) + ":");
    this.sessionId = this.store.get("session", null);
    this.outbox = this.store.get("outbox", []);
    this.visitor = this.store.get("visitor", null);
    this.unread = 0;
    this.sending = null;
    this.shown = {};
    this.limits = { chars: o.max_message_chars || 2000 };
    this.build();
    var self = this;
    this.connection = new Connection(this.server, o.socketPath || "/socket.io",
      function (event, data) { self.on(event, data); },
      function (state) { self.setState(state); },
      this.authorizer(o.token));
    this.onOnline = function () { self.connection.now(); };
    // Dropped now, not when the socket's close event comes: a message typed in between
    // would be shown as sending.
    this.onOffline = function () {
      var ws = self.connection.ws;
      if (ws) { ws.close(); self.connection.dropped(ws); }
      self.setState("offline");
    };
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connection.connect();
    if (o.open || this.store.get("open", false)) this.open(false);
  }

  Chat.prototype.build = function () {
    var t = this.t, self = this, o = this.options;
    this.host = el("div", { "data-parlez-chat": true });
    var shadow = this.host.attachShadow ? this.host.attachShadow({ mode: "open" }) : this.host;
    shadow.appendChild(el("style", { text: CSS }));
    var title = o.title || t.title;
    this.badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = el("button", {
      class: "launcher", type: "button", "aria-label": t.open, "aria-expanded": "false",
      onclick: function () { self.toggle(); }
    }, [icon("chat"), icon("close"), this.badge]);
    var avatar = o.avatar && safeUrl(o.avatar, this.server) ? el("img", { src: safeUrl(o.avatar, this.server), alt: "" }) : null;
    this.status = el("div", { class: "s", text: o.subtitle || "" });
    this.note = el("div", { class: "note", role: "status", hidden: true });
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": title, tabindex: "0" });
    this.typing = el("div", { class: "typing", hidden: true, role: "status", "aria-label": t.typing }, [el("i"), el("i"), el("i")]);
    this.input = el("textarea", { rows: "1", placeholder: t.placeholder, "aria-label": t.placeholder, maxlength: "4000" });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); self.submit(); }
    });
    this.file = el("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf", hidden: true, tabindex: "-1",
      onchange: function () { if (self.file.files[0]) self.upload(self.file.files[0]); self.file.value = ""; } });
    this.attachButton = el("button", { class: "icon", type: "button", "aria-label": t.attach, title: t.attach,
      onclick: function () { self.file.click(); } }, [icon("clip")]);
    // The microphone, when the server hears speech in the chat's language (docs/webchat.md).
    var speech = o.speech || {};
    var canRecord = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && (window.AudioContext || window.webkitAudioContext));
    this.micButton = speech.listen && canRecord && (speech.languages || []).indexOf(this.lang) >= 0
      ? el("button", { class: "icon mic", type: "button", "aria-label": t.speak, title: t.speak, "aria-pressed": "false",
          onclick: function () { self.toggleRecording(); } }, [icon("mic")])
      : null;
    this.bar = el("form", { class: "bar", onsubmit: function (event) { event.preventDefault(); self.submit(); } }, [
      this.attachButton, this.file, this.input, this.micButton,
      el("button", { class: "icon go", type: "submit", "aria-label": t.send, title: t.send }, [icon("send")])
    ]);
    this.aside = el("div", { class: "form", hidden: true });
    this.panel = el("div", { class: "panel", role: "dialog", "aria-label": title, hidden: true }, [
      el("div", { class: "head" }, [
        avatar,
        el("div", { class: "t" }, [el("h2", { text: title }), this.status]),
        el("button", { class: "icon", type: "button", "aria-label": t.end, title: t.end, onclick: function () { self.askRating(); } }, [icon("end")]),
        el("button", { class: "icon", type: "button", "aria-label": t.close, title: t.close, onclick: function () { self.close(); } }, [icon("close")])
      ]),
      this.note, this.log, this.aside, this.bar
    ]);
    this.panel.addEventListener("keydown", function (event) { if (event.key === "Escape") self.close(); });
    this.root = el("div", { class: "root " + (o.position === "left" ? "left" : "right"), dir: RTL[this.lang] ? "rtl" : "ltr", lang: this.lang },
      [this.panel, this.launcher]);
    if (o.color && /^#[0-9a-f]{3,8}$|^rgb/i.test(o.color)) this.root.style.setProperty("--c", o.color);
    shadow.appendChild(this.root);
    this.shadow = shadow;
    (o.container || document.body).appendChild(this.host);
    if (o.prechat && !this.visitor) this.showPrechat();
  };

  Chat.prototype.toggle = function () { if (this.panel.hidden) this.open(true); else this.close(); };

  Chat.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.root.classList.add("open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", this.t.close);
    this.unread = 0;
    this.showUnread();
    this.store.set("open", true);
    this.scroll();
    this.greet();
    notify("open", {});
    if (focus !== false) (this.aside.hidden ? this.input : this.aside.querySelector("input,button")).focus();
  };

  Chat.prototype.close = function () {
    this.panel.hidden = true;
    this.root.classList.remove("open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", this.t.open);
    this.store.set("open", false);
    this.launcher.focus();
    notify("close", {});
  };

  Chat.prototype.showUnread = function () {
    this.badge.hidden = !this.unread;
    this.badge.textContent = this.unread > 9 ? "9+" : String(this.unread);
    this.launcher.setAttribute("aria-label", this.unread ? fill(this.t.unread, { n: this.unread }) + ". " + this.t.open : (this.panel.hidden ? this.t.open : this.t.close));
  };

  // `token`: a JWT (string) for a server with `jwt_key`, or a function that returns one (or a
  // promise of one), asked again on each connection so that a short-lived token can be renewed.
  Chat.prototype.authorizer = function (token) {
    var self = this;
    var authorize = function (done) {
      if (!token) { done(null); return; }
      Promise.resolve(typeof token === "function" ? token() : token).then(function (value) {
        self.jwt = value ? String(value) : null;
        done(self.jwt ? { token: self.jwt } : null);
      }, function () { done(null); });
    };
    authorize.refreshes = typeof token === "function";
    return authorize;
  };

  Chat.prototype.setState = function (state) {
    this.state = state;
    var t = this.t;
    if (state === "online") {
      this.connection.emit("session_request", { session_id: this.sessionId });
    }
    var text = state === "offline" ? t.offline : state === "refused" ? t.refused
      : state === "connecting" && this.wasOnline ? t.connecting : "";
    if (state === "online") this.wasOnline = true;
    this.showNote(text || (this.human ? t.human : ""), !text && this.human);
  };

  Chat.prototype.showNote = function (text, human) {
    this.note.hidden = !text;
    this.note.textContent = text;
    this.note.className = "note" + (human ? " human" : "");
  };

  // The standing note (a person is answering) replaces a passing one (a refused file, a message
  // too long) only when the visitor does something next, or when a person joins or leaves:
  // a reply arriving late must not wipe the reason a file was refused.
  Chat.prototype.standingNote = function () {
    if (this.state === "online") this.showNote(this.human ? this.t.human : "", this.human);
  };

  Chat.prototype.setHuman = function (human) {
    human = !!human;
    if (human === this.human) return;
    this.human = human;
    this.standingNote();
  };

  Chat.prototype.on = function (event, data) {
    if (event === "session_confirm") {
      if (this.sessionId !== data) { this.sessionId = data; this.store.set("session", data); }
      this.visited();
      this.sendReports();
    } else if (event === "history") {
      this.restore(data || {});
    } else if (event === "bot_uttered" || event === (this.options.botEvent || "bot_uttered")) {
      this.addBot(data || {});
    } else if (event === "typing") {
      this.personTyping(!!(data && data.typing));
    } else if (event === "user_echo") {
      if (data && !this.shown[data.id]) this.addUser({ text: data.text, attachment: data.attachment, id: data.id, timestamp: Date.now() / 1000 });
    }
  };

  Chat.prototype.restore = function (data) {
    var self = this;
    this.log.textContent = "";
    this.shown = {};
    (data.messages || []).forEach(function (m) {
      if (m.sender === "user") self.addUser(m); else self.addBot(m, true);
    });
    // What the server already has is not sent again; the rest is shown as waiting.
    this.outbox = this.outbox.filter(function (item) { return !self.shown[item.id]; });
    this.store.set("outbox", this.outbox);
    this.outbox.forEach(function (item) { if (!item.hidden) self.addUser({ text: item.display || item.text, attachment: item.attachment, id: item.id, timestamp: item.ts }, "queued"); });
    this.setHuman(data.handoff);
    this.greeted = (data.messages || []).length > 0 || this.store.get("greeted:" + this.sessionId, false);
    if (!this.panel.hidden) this.greet();
    this.flush();
  };

  Chat.prototype.greet = function () {
    var payload = this.options.greeting;
    // Not before the pre-chat form is filled in: the greeting carries the visitor's details.
    if (!payload || this.greeted || !this.sessionId || this.state !== "online" || !this.aside.hidden) return;
    this.greeted = true;
    this.store.set("greeted:" + this.sessionId, true);
    this.queue({ text: payload, hidden: true });
  };

  Chat.prototype.time = function (seconds) {
    var date = seconds ? new Date(seconds * 1000) : new Date();
    try { return new Intl.DateTimeFormat(this.lang, { hour: "2-digit", minute: "2-digit" }).format(date); } catch (e) { return date.toTimeString().slice(0, 5); }
  };

  Chat.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };

  Chat.prototype.append = function (node) {
    this.log.appendChild(node);
    this.log.appendChild(this.typing);
    this.scroll();
  };

  Chat.prototype.addUser = function (m, state) {
    if (m.id) this.shown[m.id] = true;
    var bubble = el("div", { class: "bubble", dir: "auto" });
    if (m.attachment) bubble.appendChild(this.attachmentNode(m.attachment));
    if (m.text && !(m.attachment && m.text === m.attachment.name)) bubble.appendChild(markdown(m.text, this.server));
    var meta = el("div", { class: "meta", text: state ? this.t[state] : this.time(m.timestamp) });
    var node = el("div", { class: "msg user" + (state === "failed" ? " failed" : ""), "data-id": m.id || "" }, [
      el("span", { class: "vh", text: this.t.you + ":" }), bubble, meta
    ]);
    this.append(node);
    return node;
  };

  Chat.prototype.markSent = function (id, state) {
    var node = this.log.querySelector('[data-id="' + String(id).replace(/[^\w-]/g, "") + '"]');
    if (!node) return;
    node.classList.toggle("failed", state === "failed");
    node.querySelector(".meta").textContent = state ? this.t[state] : this.time();
  };

  // A person in the console writes to the visitor: the same dots as the assistant's, named
  // for the person, gone when their message comes or when no word has come for a while.
  Chat.prototype.personTyping = function (on) {
    var self = this;
    clearTimeout(this.personTimer);
    if (this.sending) return; // the assistant's own turn shows its dots already
    this.typing.setAttribute("aria-label", on ? this.t.personTyping : this.t.typing);
    this.typing.hidden = !on;
    if (!on) return;
    this.setHuman(true);
    this.log.appendChild(this.typing);
    this.scroll();
    this.personTimer = setTimeout(function () { self.personTyping(false); }, 8000);
  };

  Chat.prototype.addBot = function (m, old) {
    var self = this, t = this.t, parts = [];
    if (!old) notify("message", { from: m.human ? "person" : "bot", text: m.text || "", buttons: m.quick_replies || m.buttons || [] });
    var human = m.human !== undefined ? m.human : false;
    if (human && !old && !this.sending) this.personTyping(false);
    if (m.text) parts.push(el("div", { class: "bubble", dir: "auto" }, [markdown(m.text, this.server)]));
    var a = m.attachment;
    if (a && a.type === "template" && a.payload && a.payload.elements) {
      parts.push(el("div", { class: "cards" }, a.payload.elements.map(function (card) { return self.card(card); })));
    } else if (a) {
      parts.push(el("div", { class: "bubble" }, [this.attachmentNode(a.payload ? { url: a.payload.src || a.payload.url, type: a.type === "image" ? "image/" : "", name: a.payload.name || a.payload.title } : a)]));
    }
    if (m.quick_replies && m.quick_replies.length) parts.push(this.choices(m.quick_replies));
    if (m.sources && m.sources.length) {
      var list = el("div", { class: "sources" }, [document.createTextNode(t.sources + ": ")]);
      m.sources.forEach(function (source, i) {
        if (i) list.appendChild(document.createTextNode(" · "));
        var href = source.url && safeUrl(source.url, self.server);
        var label = source.title || source.source || source.id || "";
        list.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: label }) : document.createTextNode(label));
      });
      parts.push(list);
    }
    if (!parts.length) return;
    parts.unshift(el("span", { class: "vh", text: (human ? t.agent : t.bot) + ":" }));
    parts.push(el("div", { class: "meta", text: (human ? t.agent + " · " : "") + this.time(m.timestamp) }));
    this.append(el("div", { class: "msg bot" + (human ? " human" : "") }, parts));
    if (!old && this.panel.hidden) { this.unread++; this.showUnread(); }
    if (!old && this.speakAnswers && m.text) this.say(m.text);
  };

  // ---- speech: the visitor speaks, and the answers to what they said are said ----------------

  // Recorded speech as a 16 kHz mono 16-bit WAV file, what the server's engines take.
  function wavFile(chunks, rate) {
    var total = 0, i, j;
    for (i = 0; i < chunks.length; i++) total += chunks[i].length;
    var all = new Float32Array(total), at = 0;
    for (i = 0; i < chunks.length; i++) { all.set(chunks[i], at); at += chunks[i].length; }
    var ratio = rate / 16000, count = Math.floor(total / ratio);
    var view = new DataView(new ArrayBuffer(44 + 2 * count));
    function text(offset, value) { for (var k = 0; k < value.length; k++) view.setUint8(offset + k, value.charCodeAt(k)); }
    text(0, "RIFF"); view.setUint32(4, 36 + 2 * count, true); text(8, "WAVE"); text(12, "fmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, 16000, true); view.setUint32(28, 32000, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * count, true);
    for (i = 0; i < count; i++) {
      // Each output sample is the mean of the input samples it covers (a simple low-pass).
      var from = Math.floor(i * ratio), to = Math.max(from + 1, Math.floor((i + 1) * ratio)), sum = 0;
      for (j = from; j < to && j < total; j++) sum += all[j];
      var v = Math.max(-1, Math.min(1, sum / (to - from)));
      view.setInt16(44 + 2 * i, v < 0 ? v * 0x8000 : v * 0x7fff, true);
    }
    return new Blob([view], { type: "audio/wav" });
  }

  Chat.prototype.toggleRecording = function () {
    if (this.recording) { this.stopRecording(true); return; }
    var self = this, t = this.t, limit = ((this.options.speech || {}).max_seconds || 20) * 1000;
    if (this.playing) this.playing.pause();
    this.recording = { starting: true };
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var Context = window.AudioContext || window.webkitAudioContext;
      var context = new Context(), chunks = [];
      var source = context.createMediaStreamSource(stream);
      var node = context.createScriptProcessor(4096, 1, 1);
      node.onaudioprocess = function (event) { chunks.push(new Float32Array(event.inputBuffer.getChannelData(0))); };
      source.connect(node);
      node.connect(context.destination);
      self.recording = { stream: stream, context: context, source: source, node: node, chunks: chunks };
      self.micButton.classList.add("on");
      self.micButton.setAttribute("aria-pressed", "true");
      self.micButton.setAttribute("aria-label", t.stopSpeaking);
      self.micButton.title = t.stopSpeaking;
      self.showNote(t.listening);
      self.recordTimer = setTimeout(function () { self.stopRecording(true); }, limit - 250);
    }, function () {
      self.recording = null;
      self.showNote(t.noMicrophone);
    });
  };

  Chat.prototype.stopRecording = function (send) {
    var r = this.recording, t = this.t;
    if (!r || r.starting) return;
    this.recording = null;
    clearTimeout(this.recordTimer);
    r.node.disconnect();
    r.source.disconnect();
    r.stream.getTracks().forEach(function (track) { track.stop(); });
    var rate = r.context.sampleRate;
    r.context.close();
    this.micButton.classList.remove("on");
    this.micButton.setAttribute("aria-pressed", "false");
    this.micButton.setAttribute("aria-label", t.speak);
    this.micButton.title = t.speak;
    this.showNote("");
    if (send && r.chunks.length) this.hear(wavFile(r.chunks, rate));
  };

  Chat.prototype.speechHeaders = function (extra) {
    var headers = extra || {};
    if (this.jwt) headers.Authorization = "Bearer " + this.jwt;
    return headers;
  };

  // The recording to the server, and what it heard as the visitor's message.
  Chat.prototype.hear = function (wav) {
    var self = this, t = this.t;
    if (!this.sessionId) return;
    var url = this.server + "/webchat/speech?session_id=" + encodeURIComponent(this.sessionId) + "&language=" + encodeURIComponent(this.lang);
    fetch(url, { method: "POST", body: wav, headers: this.speechHeaders({ "Content-Type": "audio/wav" }) }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.message || response.status);
        if (!body.text) { self.showNote(t.notHeard); return; }
        self.speakAnswers = true;
        self.queue({ text: body.text, speech: { confidence: body.confidence, seconds: body.seconds } });
      });
    }).catch(function () { self.showNote(t.notHeard); });
  };

  // An answer said aloud, after the ones before it.
  Chat.prototype.say = function (text) {
    var self = this;
    if (!(this.options.speech || {}).speak || !this.sessionId) return;
    var request = fetch(this.server + "/webchat/speech/say", {
      method: "POST",
      headers: this.speechHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify({ text: text, language: this.lang, session_id: this.sessionId })
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.blob();
    });
    this.saying = (this.saying || Promise.resolve()).then(function () {
      return request.then(function (blob) {
        return new Promise(function (done) {
          var audio = self.playing = new Audio(URL.createObjectURL(blob));
          self.said = (self.said || 0) + 1;
          self.host.setAttribute("data-said", String(self.said));
          var finish = function () { URL.revokeObjectURL(audio.src); if (self.playing === audio) self.playing = null; done(); };
          audio.onended = finish;
          audio.onerror = finish;
          audio.onpause = finish;
          var played = audio.play();
          if (played && played.catch) played.catch(finish);
        });
      });
    }).catch(function () { /* the answer is on the screen anyway */ });
  };

  Chat.prototype.attachmentNode = function (a) {
    var href = safeUrl(a.url || a.src || "", this.server);
    if (!href) return document.createTextNode(a.name || "");
    if (String(a.type || "").indexOf("image/") === 0) return el("img", { src: href, alt: a.name || "", loading: "lazy" });
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: "📄 " + (a.name || href) });
  };

  Chat.prototype.choices = function (buttons) {
    var self = this;
    var box = el("div", { class: "choices", role: "group" });
    buttons.forEach(function (b) {
      var link = b.url && safeUrl(b.url, self.server);
      box.appendChild(link
        ? el("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, [el("button", { type: "button", text: b.title, tabindex: "-1" })])
        : el("button", { type: "button", text: b.title, onclick: function () {
            box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
            self.queue({ text: b.payload || b.title, display: b.title });
          } }));
    });
    return box;
  };

  Chat.prototype.card = function (card) {
    var image = card.image_url && safeUrl(card.image_url, this.server);
    return el("div", { class: "card" }, [
      image ? el("img", { src: image, alt: "" }) : null,
      card.title ? el("b", { text: card.title }) : null,
      card.subtitle ? el("span", { text: card.subtitle }) : null,
      (card.buttons || []).length ? this.choices(card.buttons) : null
    ]);
  };

  Chat.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    this.speakAnswers = false; // a typed message is answered in writing only
    if (text.length > this.limits.chars) { this.showNote(fill(this.t.tooLong, { n: this.limits.chars })); return; }
    this.standingNote();
    this.input.value = "";
    this.queue({ text: text });
  };

  Chat.prototype.metadata = function (item) {
    var meta = {
      page: { url: location.href, title: document.title },
      referrer: document.referrer || null,
      language: navigator.language,
      timezone: (Intl.DateTimeFormat().resolvedOptions() || {}).timeZone
    };
    if (this.visitor) meta.visitor = this.visitor;
    if (item.display) meta.display = item.display;
    if (item.speech) meta.speech = item.speech;
    if (item.hidden) meta.hidden = true;
    return meta;
  };

  // Every message goes through the outbox (kept in localStorage): sent when connected, one at
  // a time, removed only when the server says it has it. A resend carries the same id, which
  // the server answers once.
  Chat.prototype.queue = function (item) {
    item.id = newId();
    item.ts = Date.now() / 1000;
    item.meta = this.metadata(item);
    this.outbox.push(item);
    this.store.set("outbox", this.outbox);
    if (!item.hidden) {
      this.addUser({ text: item.display || item.text, attachment: item.attachment, id: item.id, timestamp: item.ts }, this.connection.ready ? "sending" : "queued");
      notify("message", { from: "visitor", text: item.display || item.text });
    }
    this.flush();
  };

  Chat.prototype.flush = function () {
    var self = this;
    if (this.sending || !this.outbox.length || !this.sessionId || this.state !== "online") return;
    var item = this.sending = this.outbox[0];
    // A second try tells the server to look for the first one in the conversation.
    item.tries = (item.tries || 0) + 1;
    this.store.set("outbox", this.outbox);
    this.typing.hidden = false;
    this.log.appendChild(this.typing);
    this.scroll();
    var sent = this.connection.emit(this.options.userEvent || "user_uttered", {
      message: item.text, session_id: this.sessionId, message_id: item.id, metadata: item.meta, attachment: item.attachment,
      resend: item.tries > 1
    }, function (reply) {
      self.sending = null;
      self.typing.hidden = true;
      if (!reply) { self.markSent(item.id, "queued"); return; } // lost: sent again on reconnect
      if (reply.ok || reply.error === "too_long" || reply.error === "empty" || reply.error === "bad_message") {
        self.outbox = self.outbox.filter(function (x) { return x.id !== item.id; });
        self.store.set("outbox", self.outbox);
        self.markSent(item.id, reply.ok ? null : "failed");
        if (reply.error === "too_long") self.showNote(fill(self.t.tooLong, { n: reply.limit }));
        if (reply.ok) self.setHuman(reply.handoff);
        self.flush();
      } else if (reply.error === "rate_limited") {
        self.showNote(self.t.tooFast);
        setTimeout(function () { self.flush(); }, Math.max(1, reply.retry_after || 2) * 1000);
      } else {
        self.markSent(item.id, "failed");
        setTimeout(function () { self.flush(); }, 3000);
      }
    });
    if (!sent) { this.sending = null; this.typing.hidden = true; }
    else this.markSent(item.id, "sending");
  };

  // ---- what the page reports (ParlezChat.track) -------------------------------------------
  // Kept in localStorage until the server took it: a purchase reported while the chat was
  // still connecting, or offline, is sent when the chat has its session.
  Chat.prototype.track = function (name, props) {
    props = props || {};
    var pending = this.store.get("reports", []);
    pending.push({ id: newId(), event: name, value: props.value, currency: props.currency, order_id: props.order_id });
    this.store.set("reports", pending.slice(-50));
    this.sendReports();
  };

  Chat.prototype.visited = function () {
    var today = new Date().toISOString().slice(0, 10);
    if (this.store.get("visited", "") === today) return;
    this.store.set("visited", today);
    this.track("visit");
  };

  Chat.prototype.sendReports = function () {
    var self = this, pending = this.store.get("reports", []);
    if (!this.sessionId || !pending.length || this.reporting) return;
    var report = pending[0];
    var headers = { "Content-Type": "application/json" };
    if (this.jwt) headers.Authorization = "Bearer " + this.jwt;
    var body = { session_id: this.sessionId, event: report.event, value: report.value, currency: report.currency, order_id: report.order_id };
    var done = function () {
      self.reporting = false;
      self.reportDelay = 0;
      self.store.set("reports", self.store.get("reports", []).filter(function (r) { return r.id !== report.id; }));
      self.sendReports();
    };
    this.reporting = true;
    fetch(this.server + "/webchat/track", { method: "POST", headers: headers, body: JSON.stringify(body), keepalive: true }).then(function (response) {
      if (response.ok) return done();
      return response.json().then(function (reply) {
        // Refused for good (a wrong value): said in the page's console and dropped; a budget
        // spent or a server away: tried again a little later, and kept for the next visit.
        if (response.status === 400) { if (window.console) console.warn("ParlezChat.track: " + reply.message); done(); }
        else self.reportLater();
      });
    }).catch(function () { self.reportLater(); });
  };

  Chat.prototype.reportLater = function () {
    var self = this;
    this.reporting = false;
    this.reportDelay = Math.min((this.reportDelay || 2500) * 2, 60000);
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(function () { self.sendReports(); }, this.reportDelay);
  };

  Chat.prototype.upload = function (file) {
    var self = this, t = this.t;
    if (!this.sessionId) return;
    this.standingNote();
    var form = new FormData();
    form.append("session_id", this.sessionId);
    form.append("file", file, file.name);
    var headers = this.jwt ? { Authorization: "Bearer " + this.jwt } : {};
    fetch(this.server + "/webchat/upload", { method: "POST", body: form, headers: headers }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.message || response.status);
        self.queue({ text: "", attachment: body });
      });
    }).catch(function (error) {
      self.showNote(fill(t.uploadFailed, { reason: error.message }));
    });
  };

  Chat.prototype.showPrechat = function () {
    var self = this, t = this.t;
    var name = el("input", { type: "text", autocomplete: "name", required: true });
    var email = el("input", { type: "email", autocomplete: "email", required: true });
    var consent = el("input", { type: "checkbox", required: true });
    this.showAside([
      el("h3", { text: t.prechat }),
      el("label", {}, [document.createTextNode(t.name), name]),
      el("label", {}, [document.createTextNode(t.email), email]),
      el("label", { class: "check" }, [consent, document.createTextNode(t.consent)]),
      el("button", { class: "primary", type: "submit", text: t.start })
    ], function () {
      self.visitor = { name: name.value.trim(), email: email.value.trim(), consent: consent.checked };
      self.store.set("visitor", self.visitor);
      self.prechatShown = false;
      self.hideAside();
      self.greet();
    });
    this.prechatShown = true;
  };

  // The page knows who the visitor is (a signed-in customer): no pre-chat form, and the
  // console shows their name. Consent is kept only when the page says it was given.
  Chat.prototype.setVisitor = function (user) {
    var v = {};
    if (this.visitor && this.visitor.consent !== undefined) v.consent = this.visitor.consent;
    if (typeof user.name === "string") v.name = user.name.trim().slice(0, 200);
    if (typeof user.email === "string") v.email = user.email.trim().slice(0, 320);
    if (typeof user.consent === "boolean") v.consent = user.consent;
    this.visitor = v;
    this.store.set("visitor", v);
    if (this.prechatShown) {
      this.prechatShown = false;
      this.hideAside();
      this.greet();
    }
  };

  Chat.prototype.askRating = function () {
    var self = this, t = this.t, rating = 0;
    var stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t.rate });
    var comment = el("textarea", { rows: "3", "aria-label": t.comment, placeholder: t.comment, maxlength: "2000" });
    var submit = el("button", { class: "primary", type: "submit", text: t.submit, disabled: true });
    var email = this.options.transcript ? el("input", { type: "email", autocomplete: "email", value: (this.visitor && this.visitor.email) || "",
      oninput: function () { submit.disabled = !rating && !email.value.trim(); } }) : null;
    [1, 2, 3, 4, 5].forEach(function (n) {
      stars.appendChild(el("button", { type: "button", role: "radio", "aria-checked": "false", "aria-label": fill(t.star, { n: n }), text: "★",
        onclick: function () {
          rating = n;
          submit.disabled = false;
          stars.querySelectorAll("button").forEach(function (b, i) { b.classList.toggle("lit", i < n); b.setAttribute("aria-checked", String(i + 1 === n)); });
        } }));
    });
    if (email && email.value) submit.disabled = false;
    this.showAside([
      el("h3", { text: t.rate }), stars, comment,
      email ? el("label", {}, [document.createTextNode(t.transcript), email]) : null,
      submit,
      el("button", { class: "plain", type: "button", text: t.skip, onclick: function () { self.thank(false); } })
    ], function () {
      if (rating) self.connection.emit("feedback", { session_id: self.sessionId, rating: rating, comment: comment.value.trim() }, function () {});
      var address = email ? email.value.trim() : "";
      if (address) {
        self.connection.emit("transcript", { session_id: self.sessionId, email: address }, function (reply) {
          if (reply && reply.ok) self.sentNote.textContent = fill(t.sent, { email: address });
        });
      }
      self.thank(rating > 0);
    });
  };

  Chat.prototype.thank = function (rated) {
    var self = this, t = this.t;
    this.sentNote = el("p", { role: "status" });
    this.showAside([
      el("h3", { text: rated ? t.thanks : t.done, role: "status" }),
      this.sentNote,
      el("button", { class: "primary", type: "button", text: t.restart, onclick: function () { self.restart(); } })
    ]);
  };

  Chat.prototype.restart = function () {
    this.store.remove("session");
    this.sessionId = null;
    this.outbox = [];
    this.store.set("outbox", []);
    this.log.textContent = "";
    this.hideAside();
    this.setHuman(false);
    this.connection.emit("session_request", { session_id: null });
  };

  Chat.prototype.showAside = function (children, onsubmit) {
    var form = el("form", { class: "form", onsubmit: function (event) { event.preventDefault(); if (onsubmit) onsubmit(); } }, children);
    this.aside.textContent = "";
    this.aside.appendChild(form);
    this.aside.hidden = false;
    this.log.hidden = true;
    this.bar.hidden = true;
    var first = form.querySelector("input,button:not([disabled])");
    if (first && !this.panel.hidden) first.focus();
  };

  Chat.prototype.hideAside = function () {
    this.aside.hidden = true;
    this.aside.textContent = "";
    this.log.hidden = false;
    this.bar.hidden = false;
    if (!this.panel.hidden) this.input.focus();
    this.scroll();
  };

  Chat.prototype.destroy = function () {
    this.connection.stop();
    clearTimeout(this.reportTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    if (this.host.parentNode) this.host.parentNode.removeChild(this.host);
  };

  // ---------------------------------------------------------------- embedding
  function fromScript(script) {
    var d = script.dataset, src = new URL(script.src, location.href);
    return {
      server: d.server || src.origin,
      title: d.title, subtitle: d.subtitle, avatar: d.avatar, color: d.color,
      position: d.position, language: d.language || d.lang, greeting: d.greeting,
      open: d.open ? d.open === "true" : undefined,
      prechat: d.prechat ? d.prechat === "true" : undefined, storageKey: d.storageKey,
      token: d.token
    };
  }

  var instance = null;
  var pendingUser = null;
  var pendingReports = [];
  // ParlezChat.on("message" | "open" | "close", handler): a page's own code follows the chat.
  // A handler that throws is reported in the console and never stops the chat.
  var listeners = { message: [], open: [], close: [] };
  function notify(name, detail) {
    (listeners[name] || []).slice().forEach(function (handler) {
      try { handler(detail); } catch (error) { if (window.console) console.error(error); }
    });
  }
  window.ParlezChat = {
    version: "1",
    init: function (options) {
      if (instance) instance.destroy();
      var o = {};
      for (var key in options || {}) if (options[key] !== undefined) o[key] = options[key];
      if (!o.server) o.server = currentScript ? new URL(currentScript.src, location.href).origin : location.origin;
      instance = new Chat(o);
      if (pendingUser) { instance.setVisitor(pendingUser); pendingUser = null; }
      pendingReports.splice(0).forEach(function (r) { instance.track(r[0], r[1]); });
      return instance;
    },
    // ParlezChat.track("purchase", { value: 120, currency: "EUR", order_id: "A-1042" }): the
    // business's page reports a conversion, tied to this visitor's chats for the ROI report.
    track: function (name, props) {
      if (typeof name !== "string" || !/^[a-z][a-z0-9_]{0,63}$/.test(name)) throw new Error("ParlezChat.track: an event is a name such as purchase (a-z, 0-9, _)");
      if (props !== undefined && (props === null || typeof props !== "object")) throw new Error("ParlezChat.track: the properties are an object: { value, currency, order_id }");
      if (instance) instance.track(name, props); else pendingReports.push([name, props]);
    },
    setUser: function (user) {
      if (!user || typeof user !== "object") return;
      if (instance) instance.setVisitor(user); else pendingUser = user;
    },
    on: function (name, handler) {
      if (!listeners[name]) throw new Error("ParlezChat.on: no event '" + name + "' (message, open, close)");
      if (typeof handler === "function") listeners[name].push(handler);
    },
    off: function (name, handler) {
      listeners[name] = (listeners[name] || []).filter(function (h) { return h !== handler; });
    },
    open: function () { if (instance) instance.open(); },
    close: function () { if (instance) instance.close(); },
    destroy: function () { if (instance) instance.destroy(); instance = null; },
    // A message's text as the chat shows it (its safe Markdown), for a page that previews
    // what the assistant will say: the console's responses editor.
    render: function (text) { return markdown(text, location.origin); }
  };

  if (currentScript && currentScript.src && currentScript.dataset.manual !== "true") {
    var start = function () { window.ParlezChat.init(fromScript(currentScript)); };
    if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
  }
})();
