// The console's live feed and keyboard shortcuts, on every signed-in page.
(function () {
  // ---- the live feed: `change` refreshes the inbox's rows (htmx listens for
  // `inbox-changed`); `handoff` tells the agent a customer waits for a person.
  var alerts = document.getElementById("alerts");
  var waiting = 0;
  var title = document.title;

  function handoff(event) {
    var id = JSON.parse(event.data);
    waiting++;
    document.title = "(" + waiting + ") " + title;
    if (!alerts) return;
    var item = document.createElement("p");
    var link = document.createElement("a");
    link.href = "/console/conversations/" + encodeURIComponent(id);
    link.textContent = "Open the conversation";
    // The id is the customer's own text on some channels: text, never markup.
    item.appendChild(document.createTextNode("A customer is waiting for a person (" + id + "). "));
    item.appendChild(link);
    alerts.appendChild(item);
    alerts.hidden = false;
    if (window.Notification && Notification.permission === "granted") {
      new Notification("A customer is waiting for a person", { body: id, tag: "handoff-" + id });
    }
  }

  if (window.EventSource && document.body.dataset.live) {
    var pending = null;
    var changed = function () {
      if (pending) return;
      // Changes that come in a burst refresh the rows once.
      pending = setTimeout(function () {
        pending = null;
        document.body.dispatchEvent(new Event("inbox-changed"));
      }, 50);
    };
    var feed = new EventSource("/console/inbox/live");
    feed.addEventListener("change", changed);
    feed.addEventListener("handoff", handoff);
    // After a lost connection the browser reconnects by itself; refresh for what was missed.
    feed.addEventListener("open", changed);
    watchPresence(feed);
  }

  // ---- colleagues in this conversation: the page says every 10 s that it is open, and
  // while the reply box changes that its person is typing; it shows who else is here.
  function watchPresence(feed) {
    var shown = document.getElementById("presence");
    if (!shown || !window.fetch) return;
    var url = location.pathname.replace(/\/$/, "") + "/presence";
    var csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
    var doing = "viewing", told = 0, idle = null;
    function show(reply) {
      // The server's own escaped rendering of the colleagues' names.
      return reply.ok ? reply.text().then(function (html) { shown.innerHTML = html; }) : null;
    }
    function tell(now) {
      doing = now;
      told = Date.now();
      var body = new URLSearchParams({ doing: now });
      fetch(url, { method: "POST", body: body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
        .then(show).catch(function () {});
    }
    tell("viewing");
    setInterval(function () { tell(doing); }, 10000);
    var box = document.getElementById("reply-text");
    if (box) {
      box.addEventListener("input", function () {
        if (doing !== "typing" || Date.now() - told > 3000) tell("typing");
        clearTimeout(idle);
        idle = setTimeout(function () { tell("viewing"); }, 4000);
      });
    }
    feed.addEventListener("presence", function (event) {
      if (JSON.parse(event.data) !== shown.dataset.conversation) return;
      fetch(url, { credentials: "same-origin" }).then(show).catch(function () {});
    });
    window.addEventListener("pagehide", function () {
      if (navigator.sendBeacon) navigator.sendBeacon(url, new URLSearchParams({ doing: "left", csrf: csrf }));
    });
  }

  // ---- keyboard shortcuts: any element with `aria-keyshortcuts` is reached by its key (a
  // box is focused, anything else clicked); `?` lists them. Keys typed into a box are text.
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function help() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog) return;
    var list = dialog.querySelector("dl");
    list.textContent = "";
    document.querySelectorAll("[aria-keyshortcuts]").forEach(function (el) {
      var row = document.createElement("div");
      var key = document.createElement("dt");
      var what = document.createElement("dd");
      key.textContent = el.getAttribute("aria-keyshortcuts");
      var label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : "";
      what.textContent = el.getAttribute("aria-label") || label || el.textContent.trim();
      row.appendChild(key);
      row.appendChild(what);
      list.appendChild(row);
    });
    dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      help();
      return;
    }
    var target = document.querySelector('[aria-keyshortcuts="' + CSS.escape(event.key) + '"]');
    if (!target) return;
    event.preventDefault();
    if (typing(target)) target.focus();
    else target.click();
  });

  // The responses editor: each preview follows the field it shows, as it is typed; a text
  // is drawn by the web chat's own renderer (its Markdown) when the server serves the chat.
  var drawPreview = function (node, value) {
    if (node.hasAttribute("data-markdown") && window.ParlezChat && window.ParlezChat.render) {
      node.replaceChildren(window.ParlezChat.render(value));
    } else {
      node.textContent = value;
    }
  };
  document.querySelectorAll("[data-preview][data-markdown]").forEach(function (node) {
    drawPreview(node, node.textContent);
  });
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.name) return;
    var selector = '[data-preview="' + CSS.escape(field.name) + '"]';
    document.querySelectorAll(selector).forEach(function (node) { drawPreview(node, field.value); });
  });

  // Marking entities on the review page: the words selected in the message become a span
  // "start:end:entity" (in characters, as Python counts them) of the form's `marks`.
  var marking = document.querySelector("[data-marking]");
  if (marking) {
    var said = marking.querySelector("[data-said]");
    var field = document.querySelector("[data-marks]");
    var list = marking.querySelector("[data-marks-list]");
    var text = said.textContent;
    var chars = function (units) { return Array.from(text.slice(0, units)).length; };
    var marks = function () {
      return field.value ? field.value.split(",").map(function (m) {
        var parts = m.split(":");
        return { start: +parts[0], end: +parts[1], entity: parts.slice(2).join(":") };
      }) : [];
    };
    var show = function () {
      list.textContent = "";
      var all = Array.from(text);
      marks().forEach(function (m, index) {
        var item = document.createElement("li");
        var name = document.createElement("code");
        name.textContent = m.entity;
        item.appendChild(name);
        item.appendChild(document.createTextNode(" = " + all.slice(m.start, m.end).join("") + " "));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "quiet";
        remove.textContent = "Remove";
        remove.addEventListener("click", function () {
          field.value = marks().filter(function (_, i) { return i !== index; })
            .map(function (k) { return k.start + ":" + k.end + ":" + k.entity; }).join(",");
          show();
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
    };
    marking.querySelector("[data-mark]").addEventListener("click", function () {
      var selection = window.getSelection();
      if (!selection.rangeCount || selection.isCollapsed) return;
      var range = selection.getRangeAt(0);
      if (!said.contains(range.startContainer) || !said.contains(range.endContainer)) return;
      var start = chars(range.startOffset), end = chars(range.endOffset);
      var entity = marking.querySelector("[data-mark-entity]").value;
      var kept = marks().filter(function (m) { return m.end <= start || m.start >= end; });
      kept.push({ start: start, end: end, entity: entity });
      kept.sort(function (a, b) { return a.start - b.start; });
      field.value = kept.map(function (m) { return m.start + ":" + m.end + ":" + m.entity; }).join(",");
      selection.removeAllRanges();
      show();
    });
    show();
  }

  // Settings: the web chat's look, shown live by the real widget in the page's corner.
  var lookPreview = document.querySelector("[data-widget-preview]");
  if (lookPreview && window.ParlezChat) {
    var keys = ["title", "subtitle", "color", "avatar", "position", "language", "prechat"];
    var timer;
    var restyle = function () {
      // No greeting: opening the settings must not start a conversation. Open beside the
      // form on a wide screen; on a phone the open chat would cover the form: the launcher.
      var wide = window.matchMedia("(min-width: 48rem)").matches;
      var options = { storageKey: "console-preview", open: wide, greeting: false };
      keys.forEach(function (key) {
        var input = lookPreview.querySelector('[name="webchat.' + key + '"]');
        if (!input) return;
        var value = input.type === "checkbox" ? input.checked : input.value.trim();
        if (value !== "") options[key] = value;
      });
      window.ParlezChat.init(options);
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(restyle, 250); };
    lookPreview.addEventListener("input", later);
    lookPreview.addEventListener("change", later);
    restyle();
  }
})();

// Reports: the time series drawn with uPlot (served by parlez from npm), when it loaded;
// the table under the chart holds the same figures without it.
window.addEventListener("load", function () {
  var holder = document.getElementById("report-chart");
  var data = document.getElementById("report-series");
  if (!holder || !data || !window.uPlot) return;
  var series = JSON.parse(data.textContent);
  var x = series.map(function (p) { return Date.parse(p.start + "T00:00:00Z") / 1000; });
  var pick = function (key) { return series.map(function (p) { return p[key]; }); };
  var width = function () { return Math.max(280, holder.clientWidth - 16); };
  var chart = new window.uPlot({
    width: width(), height: 240, tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
    series: [
      {},
      { label: "Conversations", stroke: "#1d2330", width: 2 },
      { label: "Resolved", stroke: "#2b8a3e", width: 2 },
      { label: "Handed over", stroke: "#e8590c", width: 2 },
    ],
    axes: [{}, { size: 40 }],
  }, [x, pick("conversations"), pick("resolved"), pick("handed_over")], holder);
  window.addEventListener("resize", function () { chart.setSize({ width: width(), height: 240 }); });
});
