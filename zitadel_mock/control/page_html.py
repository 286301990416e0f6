"""The live page's document: HTML, CSS and JavaScript in one self-contained string.

Kept apart from ``page.py`` (which serves it) so each stays short. Every value from the server
is written with ``textContent``: nothing received is ever parsed as HTML.
"""

from __future__ import annotations

__all__ = ["PAGE_HTML"]

PAGE_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zitadel-mock</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f6f6f8; }
header { background: #2b2d42; color: #fff; padding: .6em 1em; display: flex; gap: 1.5em;
  align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 1.2em; margin: 0; }
main { padding: 0 1em 2em; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 1em 0;
  padding: .5em 1em; }
h2 { font-size: 1.05em; margin: .4em 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee;
  vertical-align: top; }
th { background: #fafafa; }
td.why { font-family: ui-monospace, monospace; font-size: 12px; }
tr.s2 td.status { color: #17803d; } tr.s4 td.status { color: #b35c00; }
tr.s5 td.status { color: #c0142c; }
.muted { color: #777; } .error { color: #c0142c; font-weight: bold; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
  gap: 0 1em; }
label { margin-right: 1em; } input, select { font: inherit; }
code { font-family: ui-monospace, monospace; }
.wide { grid-column: span 2; } td.path, td.why { overflow-wrap: anywhere; }
</style>
</head>
<body>
<header>
  <h1>zitadel-mock</h1>
  <span>scenario <code id="source"></code></span>
  <span>ZITADEL <code id="version"></code></span>
  <label>namespace <select id="namespace"></select></label>
  <span id="status" class="muted">loading…</span>
</header>
<main>
<section>
  <h2>Journal <span id="count" class="muted"></span></h2>
  <form id="filters" onsubmit="return false">
    <label>rpc <select id="f-rpc"><option value="">any</option></select></label>
    <label>user <input id="f-user" size="16" placeholder="username or id"></label>
    <label>org <input id="f-org" size="16" placeholder="name or id"></label>
    <label>status <input id="f-status" size="4" placeholder="e.g. 401"></label>
    <span id="filter-error" class="error"></span>
  </form>
  <table id="journal">
    <thead><tr><th>#</th><th>time</th><th>status</th><th>rpc</th><th>protocol</th><th>method</th><th>path</th>
      <th>user</th><th>org</th><th>why</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<section>
  <h2>Forced rules</h2>
  <table id="rules">
    <thead><tr><th>#</th><th>rpc</th><th>user</th><th>org</th><th>answer</th>
      <th>fired</th><th>remaining</th><th>origin</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<div class="grid">
<section>
  <h2>Organisations <span id="orgs-count" class="muted"></span></h2>
  <table id="orgs"><thead><tr><th>id</th><th>name</th></tr></thead><tbody></tbody></table>
</section>
<section class="wide">
  <h2>Users <span id="users-count" class="muted"></span></h2>
  <table id="users"><thead><tr><th>id</th><th>username</th><th>org</th><th>type</th>
    <th>factors</th></tr></thead><tbody></tbody></table>
</section>
<section>
  <h2>Tokens <span id="tokens-count" class="muted"></span></h2>
  <table id="tokens"><thead><tr><th>token</th><th>user</th><th>expired</th></tr></thead>
    <tbody></tbody></table>
</section>
<section>
  <h2>Namespaces</h2>
  <table id="namespaces"><thead><tr><th>name</th><th>calls</th></tr></thead>
    <tbody></tbody></table>
</section>
</div>
</main>
<script>
"use strict";
// Every value from the server is written with textContent: a path such as
// "<script>" sent to the mock is shown as text, never run.
var namespace = null;  // null: the server's default namespace
var rpcsShown = false;
function $(id) { return document.getElementById(id); }
function text(value) { return value === null || value === undefined ? "" : String(value); }
function fill(id, rows, make) {
  var body = $(id).tBodies[0];
  var fresh = document.createElement("tbody");
  rows.forEach(function (item) {
    var tr = document.createElement("tr");
    var cells = make(item, tr);
    cells.forEach(function (cell) {
      var td = document.createElement("td");
      if (cell && typeof cell === "object") {
        td.className = cell.cls; td.textContent = text(cell.value);
      } else { td.textContent = text(cell); }
      tr.appendChild(td);
    });
    fresh.appendChild(tr);
  });
  body.parentNode.replaceChild(fresh, body);
}
function counted(id, part) {
  $(id).textContent = part.total > part.items.length
    ? "(" + part.items.length + " of " + part.total + ")" : "(" + part.total + ")";
}
function answerOf(rule) {
  var parts = [];
  if (rule.code) parts.push(rule.code);
  if (rule.fault) parts.push("fault " + rule.fault);
  if (rule.delay) parts.push("delay " + JSON.stringify(rule.delay));
  if (rule.hold) parts.push("hold");
  if (rule.then) parts.push("then " + answerOf(rule.then));
  return parts.join(", ");
}
function query() {
  var params = new URLSearchParams();
  ["rpc", "user", "org", "status"].forEach(function (key) {
    var value = $("f-" + key).value.trim();
    if (value) params.set(key, value);
  });
  var q = params.toString();
  // From the origin: a page opened with credentials in its URL (user:token@host) has a base
  // URL that fetch refuses.
  return location.origin + "/_mock/page.json" + (q ? "?" + q : "");
}
function show(data) {
  $("source").textContent = text(data.scenario.source);
  $("version").textContent = text(data.scenario.zitadel_version);
  if (!rpcsShown) {
    data.rpcs.forEach(function (rpc) {
      var option = document.createElement("option");
      option.value = rpc; option.textContent = rpc; $("f-rpc").appendChild(option);
    });
    rpcsShown = true;
  }
  var select = $("namespace");
  var names = data.namespaces.map(function (n) { return n.name; });
  if (select.options.length !== names.length ||
      names.some(function (n, i) { return select.options[i].value !== n; })) {
    while (select.firstChild) select.removeChild(select.firstChild);
    names.forEach(function (name) {
      var option = document.createElement("option");
      option.value = name; option.textContent = name; select.appendChild(option);
    });
  }
  select.value = data.namespace;
  var s = data.scenario;
  var orgNames = {}, userNames = {};
  s.orgs.items.forEach(function (o) { orgNames[o.id] = o.name; });
  s.users.items.forEach(function (u) { userNames[u.id] = u.username; });
  function named(names, id) {
    return id !== null && Object.prototype.hasOwnProperty.call(names, id) ? names[id] : id;
  }
  var journal = data.journal;
  $("count").textContent = "(" + journal.count + " shown of " + journal.total +
    (journal.dropped ? ", " + journal.dropped + " dropped" : "") + ")";
  var first = journal.count - journal.calls.length;
  var rows = journal.calls.map(function (call, i) { return [first + i + 1, call]; });
  rows.reverse();  // the newest first
  fill("journal", rows, function (pair, tr) {
    var call = pair[1];
    tr.className = "s" + String(call.status).charAt(0);
    return [pair[0], call.time, {cls: "status", value: call.status}, call.rpc || "—",
      call.protocol || "rest", call.method, {cls: "path", value: call.path},
      named(userNames, call.user_id), named(orgNames, call.org_id),
      {cls: "why", value: call.why !== undefined ? call.why
        : (call.forced ? "forced" : "")}];
  });
  fill("rules", data.rules, function (rule) {
    return [rule.index, rule.rpc || "any", named(userNames, rule.user_id) || "any",
      named(orgNames, rule.org_id) || "any",
      answerOf(rule), rule.fired,
      rule.remaining === null ? "∞" : rule.remaining, rule.origin];
  });
  counted("orgs-count", s.orgs);
  fill("orgs", s.orgs.items, function (o) { return [o.id, o.name]; });
  counted("users-count", s.users);
  fill("users", s.users.items, function (u) {
    return [u.id, u.username, named(orgNames, u.org_id), u.type, u.auth_factors.map(function (f) {
      return f.type + " (" + f.state + ")";
    }).join(", ")];
  });
  if (s.tokens === null) {
    $("tokens-count").textContent = "(none listed: any bearer token acts as IAM_OWNER)";
    fill("tokens", [], function () { return []; });
  } else {
    counted("tokens-count", s.tokens);
    fill("tokens", s.tokens.items, function (t) {
      return [t.token, named(userNames, t.user_id), t.expired ? "yes" : ""];
    });
  }
  fill("namespaces", data.namespaces, function (n) { return [n.name, n.calls]; });
}
function poll() {
  var headers = {"Accept": "application/json"};
  if (namespace !== null) headers["X-Mock-Namespace"] = namespace;
  fetch(query(), {headers: headers, credentials: "same-origin", cache: "no-store"})
    .then(function (answer) {
      return answer.json().then(function (body) { return [answer.status, body]; });
    })
    .then(function (result) {
      if (result[0] === 200) {
        $("filter-error").textContent = "";
        show(result[1]);
        $("status").textContent = "live · " + new Date().toLocaleTimeString();
        document.body.setAttribute("data-polls",
          String(Number(document.body.getAttribute("data-polls") || 0) + 1));
      } else if (result[0] === 400) {
        $("filter-error").textContent = text(result[1].error);
      } else {
        $("status").textContent = "error " + result[0] + ": " + text(result[1].error);
      }
    })
    .catch(function (error) { $("status").textContent = "unreachable: " + error; })
    .then(function () { setTimeout(poll, 1000); });
}
$("namespace").addEventListener("change", function (event) {
  namespace = event.target.value;
});
poll();
</script>
</body>
</html>
"""
