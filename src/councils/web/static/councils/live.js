// Live congress state, polled. The page is complete without this script;
// it only keeps the elements marked data-live (text) and data-live-html (server-rendered SVG) fresh.
// Each poll is one short request: an unchanged state comes back as 304 (the browser sends the ETag it was given),
// and no server thread is held between polls. Hidden tabs do not poll.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-src]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-live-src");
  var every = 2000;
  function text(name, value) {
    var nodes = root.querySelectorAll('[data-live="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = value; }
  }
  function states(value) { return value.replace("_", " ").replace(/^./, function (c) { return c.toUpperCase(); }); }
  function show(data) {
    // The server sends the words in the reader's language; the English ones are only a fallback.
    var words = data.words || { state: states(data.state), none_yet: "none yet", none: "none", nobody: "nobody" };
    text("state", words.state || states(data.state));
    text("chair", data.chair || words.none_yet);
    text("item", data.item ? data.item.title : words.none);
    text("speaker", data.speaker ? data.speaker.member : words.nobody);
    text("time_left", data.speaker ? data.speaker.time_text : "");
    text("waiting", data.waiting.length ? data.waiting.join(", ") : words.nobody);
    if (data.tally) { text("ballots", String(data.tally.ballots)); }
    var chart = root.querySelector('[data-live-html="chart"]');
    // The chart is SVG drawn and escaped on the server (councils.adapters.charts.bar_chart).
    if (chart && typeof data.chart === "string") { chart.innerHTML = data.chart; }
    root.classList.toggle("over-time", !!(data.speaker && data.speaker.over_time));
  }
  var last = null;
  function poll() {
    if (document.hidden) { window.setTimeout(poll, every); return; }
    // "no-cache": the browser revalidates with If-None-Match and hands back its cached copy on a 304.
    fetch(url, { cache: "no-cache", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (body) {
        if (body && body !== last) {
          last = body;
          try { show(JSON.parse(body)); } catch (e) { /* keep the page as it is */ }
        }
      })
      .catch(function () { /* offline a moment: the next poll tries again */ })
      .then(function () { window.setTimeout(poll, every); });
  }
  poll();
}());
