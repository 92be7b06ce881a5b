// The inbox's live feed: each `change` the server sends makes the rows refresh (htmx listens
// for `inbox-changed`). Changes that come in a burst refresh the rows once.
(function () {
  if (!window.EventSource) return;
  var pending = null;
  function changed() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      document.body.dispatchEvent(new Event("inbox-changed"));
    }, 50);
  }
  var feed = new EventSource("/console/inbox/live");
  feed.addEventListener("change", changed);
  // After a lost connection the browser reconnects by itself; refresh for what was missed.
  feed.addEventListener("open", changed);
})();
