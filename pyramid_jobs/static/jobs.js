/* pyramid_jobs pages: client-side checks, multi-file upload with progress, live progress by polling
   with ETags, relative times. No inline scripts anywhere: this file is loaded with `defer` under a
   strict CSP. Every text it shows comes translated from the server in <body data-i18n>. */
(function () {
  "use strict";

  var body = document.body;
  var prefix = body.dataset.prefix;
  var csrf = body.dataset.csrf;
  var locale = body.dataset.locale || "en";
  var T = {};
  try { T = JSON.parse(body.dataset.i18n || "{}"); } catch (e) { T = {}; }
  var ENDED = ["succeeded", "failed", "cancelled"];

  /* A translated message with ${name} placeholders filled in. */
  function t(key, values) {
    var text = T[key] !== undefined ? T[key] : key;
    return text.replace(/\$\{(\w+)\}/g, function (m, name) {
      return values && values[name] !== undefined ? values[name] : m;
    });
  }

  function number(n) {
    return typeof n === "number" ? n.toLocaleString(locale) : String(n);
  }

  function human(n) {
    var units = ["", "kB", "MB", "GB", "TB"], i = 0;
    if (n === 1) return "1 " + t("byte");
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return i ? n.toFixed(1).replace(/\.0$/, "") + " " + units[i] : n + " " + t("bytes");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* ---- times: relative, the exact local time with its zone on hover ---- */
  function relative(date) {
    var s = Math.round((Date.now() - date.getTime()) / 1000);
    if (s < 10) return t("just_now");
    if (s < 60) return t("seconds_ago", { n: s });
    if (s < 3600) return t("minutes_ago", { n: Math.floor(s / 60) });
    if (s < 86400) return t("hours_ago", { n: Math.floor(s / 3600) });
    if (s < 7 * 86400) return t("days_ago", { n: Math.floor(s / 86400) });
    return date.toLocaleDateString(locale);
  }

  function exact(date) {
    try {
      return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium", timeZoneName: "short" });
    } catch (e) { return date.toString(); }
  }

  function showTimes(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("time[datetime]"), function (node) {
      var date = new Date(node.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      node.textContent = relative(date);
      node.title = exact(date);
    });
  }
  showTimes();
  setInterval(showTimes, 30000);

  /* Poll a URL with If-None-Match, backing off while nothing changes. */
  function poll(url, onChange, opts) {
    var etag = null, delay = opts.min, stopped = false;
    function tick() {
      if (stopped) return;
      var headers = { "Accept": "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (res) {
        if (res.status === 304) { delay = Math.min(delay * 1.5, opts.max); return null; }
        if (!res.ok) { delay = opts.max; return null; }
        etag = res.headers.get("ETag");
        delay = opts.min;
        return res.json();
      }).then(function (data) {
        if (data && onChange(data) === false) stopped = true;
      }).catch(function () { delay = opts.max; }).then(function () {
        if (!stopped) setTimeout(tick, delay);
      });
    }
    setTimeout(tick, opts.first || opts.min);
  }

  /* ---- the upload page ---- */
  var form = document.getElementById("upload-form");
  if (form) {
    var input = document.getElementById("file-input");
    var drop = document.getElementById("drop");
    var detail = document.getElementById("drop-detail");
    var refused = document.getElementById("refused");
    var progressBox = document.getElementById("upload-progress");
    var uploadBar = document.getElementById("upload-bar");
    var uploadStatus = document.getElementById("upload-status");
    var button = form.querySelector("button[type=submit]");
    var maxSize = parseInt(form.dataset.maxSize, 10);
    var extensions = form.dataset.extensions.split(" ");

    var describe = function () {
      var files = Array.prototype.slice.call(input.files);
      detail.textContent = files.length ? files.map(function (f) { return f.name + " (" + human(f.size) + ")"; }).join(", ")
        : t("no_file");
    };
    /* Keep only these files chosen (a refused upload keeps its files, so nobody picks them again). */
    var keep = function (files) {
      try {
        var dt = new DataTransfer();
        files.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files;
      } catch (e) { /* old browsers: the input keeps what it had */ }
      describe();
    };
    input.addEventListener("change", describe);
    ["dragenter", "dragover"].forEach(function (type) {
      drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      drop.addEventListener(type, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; describe(); }
    });

    /* One XHR per file (fetch cannot report upload progress); sent bytes summed over all files. */
    var send = function (files, processor, options) {
      var total = files.reduce(function (s, f) { return s + f.size; }, 0) || 1;
      var sent = files.map(function () { return 0; });
      var report = function () {
        var done = sent.reduce(function (s, n) { return s + n; }, 0);
        uploadBar.value = Math.min(100, done / total * 100);
        uploadStatus.textContent = done >= total ? t("processing")
          : t("sent", { sent: human(done), total: human(total) });
      };
      progressBox.hidden = false;
      report();
      return Promise.all(files.map(function (f, i) {
        return new Promise(function (resolve) {
          var data = new FormData();
          data.append("file", f, f.name);
          if (processor) data.append("processor", processor);
          if (options) data.append("options", options);
          var xhr = new XMLHttpRequest();
          xhr.open("POST", prefix);
          xhr.setRequestHeader("Accept", "application/json");
          xhr.setRequestHeader("X-CSRF-Token", csrf);
          xhr.upload.addEventListener("progress", function (e) { sent[i] = e.loaded; report(); });
          xhr.addEventListener("load", function () {
            var answer = null;
            try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
            sent[i] = f.size; report();
            resolve({ ok: xhr.status >= 200 && xhr.status < 300, body: answer || {}, file: f });
          });
          xhr.addEventListener("error", function () { resolve({ ok: false, body: {}, file: f, network: true }); });
          xhr.send(data);
        });
      }));
    };

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      refused.textContent = "";
      var processor = document.getElementById("processor").value;
      var options = document.getElementById("options").value.trim();
      if (options) {
        var parsed = null;
        try { parsed = JSON.parse(options); } catch (err) { parsed = null; }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
          refused.appendChild(el("li", {}, t("options_json"))); return;
        }
      }
      var files = Array.prototype.slice.call(input.files), ok = [], kept = [];
      files.forEach(function (f) {
        var lower = f.name.toLowerCase();
        if (f.size > maxSize) {
          refused.appendChild(el("li", {}, t("too_large", { name: f.name, size: human(f.size), limit: human(maxSize) })));
          kept.push(f);
        } else if (!processor && !extensions.some(function (x) { return lower.endsWith(x); })) {
          refused.appendChild(el("li", {}, t("no_processor", { name: f.name })));
          kept.push(f);
        } else { ok.push(f); }
      });
      if (!ok.length) { if (!files.length) refused.appendChild(el("li", {}, t("choose"))); return; }
      button.disabled = true;
      button.textContent = t("uploading");
      send(ok, processor, options).then(function (answers) {
        var jobs = answers.filter(function (a) { return a.ok; });
        answers.filter(function (a) { return !a.ok; }).forEach(function (a) {
          var why = a.network ? t("failed_upload") : (a.body.error ? a.body.error.message : t("refused"));
          refused.appendChild(el("li", {}, a.file.name + ": " + why));
          kept.push(a.file);
        });
        if (jobs.length === 1 && answers.length === 1) { window.location = jobs[0].body.links.page; return; }
        button.disabled = false;
        button.textContent = t("upload");
        progressBox.hidden = true;
        keep(kept);
        if (recent) refreshRecent();
      });
    });
  }

  /* ---- recent jobs, live (the first page only; older pages are plain links by cursor) ---- */
  var recent = document.getElementById("recent");
  var older = document.getElementById("older");

  function row(job) {
    var tr = el("tr", { "data-id": job.id });
    var name = el("td", { "data-label": t("File") });
    name.appendChild(el("a", { href: job.links.page }, job.filename));
    name.appendChild(document.createTextNode(" "));
    name.appendChild(el("span", { "class": "hint" }, human(job.size)));
    if (job.error) name.appendChild(el("span", { "class": "row-error" }, job.error.message));
    tr.appendChild(name);
    tr.appendChild(el("td", { "data-label": t("Processor") }, job.processor));
    var state = el("td", { "data-label": t("State") });
    state.appendChild(el("span", { "class": "state state-" + job.state }, t("state_" + job.state)));
    tr.appendChild(state);
    var pct = job.progress ? job.progress.percent : 0;
    var cell = el("td", { "data-label": t("Progress") });
    cell.appendChild(el("progress", { max: "100", value: String(pct), "aria-label": t("progress_of", { name: job.filename }) },
                        pct + "%"));
    tr.appendChild(cell);
    var time = el("td", { "data-label": t("Created") });
    time.appendChild(el("time", { datetime: job.created_at }, job.created_at));
    tr.appendChild(time);
    return tr;
  }

  function render(data) {
    var tbody = recent.querySelector("tbody");
    tbody.textContent = "";
    if (!data.jobs.length) {
      var tr = el("tr", { "class": "empty" });
      tr.appendChild(el("td", { colspan: "5" }, t("no_jobs")));
      tbody.appendChild(tr);
    }
    data.jobs.forEach(function (job) { tbody.appendChild(row(job)); });
    showTimes(tbody);
    if (older) {
      var cursor = data.next ? (/[?&]before=([0-9a-f]{32})/.exec(data.next) || [])[1] : null;
      older.hidden = !cursor;
      if (cursor) older.setAttribute("href", prefix + "/ui?before=" + cursor);
    }
  }

  function refreshRecent() {
    fetch(prefix + "?limit=20", { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* the poll tries again */ });
  }

  if (recent && recent.dataset.live === "true") {
    poll(prefix + "?limit=20", function (data) { render(data); }, { min: 1500, max: 10000 });
  }

  /* ---- one job, live: the overall bar, and every step done / current with its bar / waiting ---- */
  var card = document.getElementById("job");
  if (card && ENDED.indexOf(card.dataset.state) < 0) {
    var bar = document.getElementById("bar");
    var stepLabel = document.getElementById("step-label");
    var percent = document.getElementById("percent");
    var message = document.getElementById("message");
    var elapsed = document.getElementById("elapsed");
    var live = document.getElementById("live");
    var stateEl = document.getElementById("state");
    var items = Array.prototype.slice.call(document.querySelectorAll("#steps .step-item"));
    var started = Date.parse(card.dataset.started || card.dataset.created);
    var lastAnnounced = "";

    var clock = setInterval(function () {
      var s = Math.max(0, Math.round((Date.now() - started) / 1000));
      elapsed.textContent = s >= 60 ? t("elapsed_m", { m: Math.floor(s / 60), s: s % 60 }) : t("elapsed_s", { s: s });
    }, 1000);

    var showSteps = function (p) {
      items.forEach(function (li) {
        var n = parseInt(li.dataset.step, 10);
        var status = n < p.step ? "done" : (n === p.step ? "current" : "waiting");
        li.className = "step-item step-" + status;
        var within = 0;
        if (status === "done") within = 100;
        else if (status === "current") {
          within = p.total ? p.current / p.total * 100 : Math.max(0, p.percent * p.steps / 100 - (p.step - 1)) * 100;
        }
        li.querySelector(".step-bar").value = Math.min(100, within);
        li.querySelector(".step-status").textContent = status === "current" && p.total
          ? t("of", { current: number(p.current), total: number(p.total) }) : t(status);
      });
    };

    poll(card.dataset.statusUrl, function (job) {
      stateEl.textContent = t("state_" + job.state);
      stateEl.className = "state state-" + job.state;
      var p = job.progress;
      if (job.started_at) started = Date.parse(job.started_at);
      if (p && p.step) {
        var label = t("step", { step: p.step, steps: p.steps, name: p.step_name });
        stepLabel.textContent = label;
        bar.value = p.percent;
        bar.textContent = p.percent + "%";
        percent.textContent = p.percent.toFixed(1) + "%";
        message.textContent = p.message || (p.total ? t("of", { current: number(p.current), total: number(p.total) }) : "");
        showSteps(p);
        if (label !== lastAnnounced) { live.textContent = label; lastAnnounced = label; }
      } else if (job.state === "queued") {
        stepLabel.textContent = t("waiting_worker");
      }
      if (ENDED.indexOf(job.state) >= 0) {
        clearInterval(clock);
        live.textContent = t("ended", { state: t("state_" + job.state) });
        window.location.reload();
        return false;
      }
      return true;
    }, { min: 400, max: 5000, first: 200 });
  }
})();
