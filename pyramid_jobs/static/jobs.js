/* pyramid_jobs pages: client-side checks, multi-file upload, live progress by polling with ETags.
   No inline scripts anywhere: this file is loaded with `defer` under a strict CSP. */
(function () {
  "use strict";

  var body = document.body;
  var prefix = body.dataset.prefix;
  var csrf = body.dataset.csrf;
  var ENDED = ["succeeded", "failed", "cancelled"];

  function human(n) {
    var units = ["bytes", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1).replace(/\.0$/, "") : n) + " " + units[i];
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

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
    var maxSize = parseInt(form.dataset.maxSize, 10);
    var extensions = form.dataset.extensions.split(" ");

    var describe = function () {
      var files = Array.prototype.slice.call(input.files);
      detail.textContent = files.length ? files.map(function (f) { return f.name + " (" + human(f.size) + ")"; }).join(", ")
        : "No file chosen";
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

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      refused.textContent = "";
      var processor = document.getElementById("processor").value;
      var options = document.getElementById("options").value.trim();
      if (options) {
        try { if (typeof JSON.parse(options) !== "object") throw new Error(); }
        catch (err) { refused.appendChild(el("li", {}, "Options must be a JSON object, such as {\"password\": \"…\"}.")); return; }
      }
      var files = Array.prototype.slice.call(input.files), ok = [];
      files.forEach(function (f) {
        var lower = f.name.toLowerCase();
        if (f.size > maxSize) {
          refused.appendChild(el("li", {}, f.name + ": " + human(f.size) + " is over the " + human(maxSize) + " limit."));
        } else if (!processor && !extensions.some(function (x) { return lower.endsWith(x); })) {
          refused.appendChild(el("li", {}, f.name + ": no processor takes this type of file."));
        } else { ok.push(f); }
      });
      if (!ok.length) { if (!files.length) refused.appendChild(el("li", {}, "Choose a file first.")); return; }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "Uploading…";
      Promise.all(ok.map(function (f) {
        var data = new FormData();
        data.append("file", f, f.name);
        if (processor) data.append("processor", processor);
        if (options) data.append("options", options);
        return fetch(prefix, { method: "POST", body: data, credentials: "same-origin",
                               headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } })
          .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body, name: f.name }; }); });
      })).then(function (answers) {
        var jobs = answers.filter(function (a) { return a.ok; });
        answers.filter(function (a) { return !a.ok; }).forEach(function (a) {
          refused.appendChild(el("li", {}, a.name + ": " + (a.body.error ? a.body.error.message : "refused")));
        });
        if (jobs.length === 1 && answers.length === 1) { window.location = jobs[0].body.links.page; return; }
        button.disabled = false;
        button.textContent = "Upload";
        form.reset();
        describe();
      }).catch(function () {
        button.disabled = false;
        button.textContent = "Upload";
        refused.appendChild(el("li", {}, "The upload failed; check your connection and try again."));
      });
    });
  }

  /* ---- recent jobs, live ---- */
  var recent = document.getElementById("recent");
  if (recent) {
    poll(prefix + "?limit=20", function (data) {
      var tbody = recent.querySelector("tbody");
      tbody.textContent = "";
      if (!data.jobs.length) {
        var tr = el("tr", { "class": "empty" });
        tr.appendChild(el("td", { colspan: "5" }, "No jobs yet."));
        tbody.appendChild(tr);
      }
      data.jobs.forEach(function (job) {
        var tr = el("tr", { "data-id": job.id });
        var name = el("td");
        name.appendChild(el("a", { href: job.links.page }, job.filename));
        tr.appendChild(name);
        tr.appendChild(el("td", {}, job.processor));
        var state = el("td");
        state.appendChild(el("span", { "class": "state state-" + job.state }, job.state));
        tr.appendChild(state);
        var pct = job.progress ? job.progress.percent : 0;
        var cell = el("td");
        cell.appendChild(el("progress", { max: "100", value: String(pct), "aria-label": "progress of " + job.filename }, pct + "%"));
        tr.appendChild(cell);
        var time = el("td");
        time.appendChild(el("time", { datetime: job.created_at }, job.created_at.slice(0, 19).replace("T", " ")));
        tr.appendChild(time);
        tbody.appendChild(tr);
      });
    }, { min: 1500, max: 10000 });
  }

  /* ---- one job, live ---- */
  var card = document.getElementById("job");
  if (card && ENDED.indexOf(card.dataset.state) < 0) {
    var bar = document.getElementById("bar");
    var stepLabel = document.getElementById("step-label");
    var percent = document.getElementById("percent");
    var message = document.getElementById("message");
    var elapsed = document.getElementById("elapsed");
    var live = document.getElementById("live");
    var stateEl = document.getElementById("state");
    var started = Date.parse(card.dataset.started || card.dataset.created);
    var lastAnnounced = "";

    var clock = setInterval(function () {
      var s = Math.max(0, Math.round((Date.now() - started) / 1000));
      elapsed.textContent = "· " + (s >= 60 ? Math.floor(s / 60) + " min " : "") + (s % 60) + " s";
    }, 1000);

    poll(card.dataset.statusUrl, function (job) {
      stateEl.textContent = job.state;
      stateEl.className = "state state-" + job.state;
      var p = job.progress;
      if (job.started_at) started = Date.parse(job.started_at);
      if (p && p.step) {
        var label = "Step " + p.step + " of " + p.steps + ": " + p.step_name;
        stepLabel.textContent = label;
        bar.value = p.percent;
        bar.textContent = p.percent + "%";
        percent.textContent = p.percent.toFixed(1) + "%";
        message.textContent = p.message || (p.total ? p.current + " of " + p.total : "");
        if (label !== lastAnnounced) { live.textContent = label; lastAnnounced = label; }
      } else if (job.state === "queued") {
        stepLabel.textContent = "Waiting for a worker…";
      }
      if (ENDED.indexOf(job.state) >= 0) {
        clearInterval(clock);
        live.textContent = "The job " + job.state + ".";
        window.location.reload();
        return false;
      }
      return true;
    }, { min: 400, max: 5000, first: 200 });
  }
})();
