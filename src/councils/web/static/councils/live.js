// Live congress state from server-sent events. The page is complete without this script;
// it only keeps the elements marked data-live (text) and data-live-html (server-rendered SVG) fresh.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-src]");
  if (!root || !window.EventSource) { return; }
  function text(name, value) {
    var nodes = root.querySelectorAll('[data-live="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) { nodes[i].textContent = value; }
  }
  function states(value) { return value.replace("_", " ").replace(/^./, function (c) { return c.toUpperCase(); }); }
  var source = new EventSource(root.getAttribute("data-live-src"));
  source.onmessage = function (event) {
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    text("state", states(data.state));
    text("chair", data.chair || "none yet");
    text("item", data.item ? data.item.title : "none");
    text("speaker", data.speaker ? data.speaker.member : "nobody");
    text("time_left", data.speaker ? data.speaker.time_text : "");
    text("waiting", data.waiting.length ? data.waiting.join(", ") : "nobody");
    if (data.tally) { text("ballots", String(data.tally.ballots)); }
    var chart = root.querySelector('[data-live-html="chart"]');
    // The chart is SVG drawn and escaped on the server (councils.adapters.charts.bar_chart).
    if (chart && typeof data.chart === "string") { chart.innerHTML = data.chart; }
    root.classList.toggle("over-time", !!(data.speaker && data.speaker.over_time));
  };
  // The server closes each stream after a while; EventSource reconnects by itself (retry: 3000).
}());
