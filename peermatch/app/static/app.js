// peermatch workbench: drag and drop with a rule check first, runs with progress,
// undo/redo, explanations. Plain JavaScript, no build step, no other file.
"use strict";
(function () {
  const body = document.body;
  const sid = body.dataset.sid;
  if (!sid) return;  // the sessions page needs no script
  const $ = (id) => document.getElementById(id);
  let rev = Number(body.dataset.rev || 0);
  let pending = null;     // the change waiting for Confirm
  let running = false;

  async function call(method, path, data) {
    const opts = {method: method, headers: {}};
    if (data !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data);
    }
    const r = await fetch("/api/s/" + sid + "/" + path, opts);
    let out = {};
    try { out = await r.json(); } catch (e) { out = {error: "HTTP " + r.status}; }
    out.httpStatus = r.status;
    return out;
  }

  function seq() {
    const st = document.querySelector("#grouping .state");
    return st ? st.dataset.seq : "";
  }

  async function refresh() {
    const r = await fetch("/s/" + sid + "/grouping");
    if (!r.ok) return;
    $("grouping").innerHTML = await r.text();
    const st = document.querySelector("#grouping .state");
    if (st) rev = Number(st.dataset.rev);
    await poll(true);
  }

  // -- checks before a drop is confirmed ----------------------------------------------
  function showCheck(check, change) {
    const box = $("pending");
    box.hidden = false;
    box.classList.toggle("refused", !check.ok);
    box.classList.toggle("allowed", !!check.ok);
    $("pending-text").textContent = check.error ? check.error :
      (check.ok ? "" : "Refused: this change breaks a hard rule.\n\n") + check.text;
    $("confirm").hidden = !check.ok;
    $("cancel").textContent = check.ok ? "Cancel" : "Dismiss";
    pending = check.ok ? change : null;
  }

  async function dropped(member, target) {
    const other = target.closest(".member");
    const card = target.closest(".card");
    if (!card) return;
    if (other && other.dataset.id !== member) {
      const change = {a: member, b: other.dataset.id, base: seq()};
      showCheck(await call("POST", "check-swap", change), ["swap", change]);
    } else if (card.dataset.group) {
      const change = {member: member, group: card.dataset.group, base: seq()};
      showCheck(await call("POST", "check-move", change), ["move", change]);
    }
  }

  document.addEventListener("dragstart", (ev) => {
    const li = ev.target.closest && ev.target.closest(".member");
    if (!li) return;
    ev.dataTransfer.setData("text/plain", li.dataset.id);
    ev.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (ev) => {
    if (ev.target.closest && ev.target.closest(".card")) ev.preventDefault();
  });
  document.addEventListener("drop", (ev) => {
    const card = ev.target.closest && ev.target.closest(".card");
    if (!card) return;
    ev.preventDefault();
    const member = ev.dataTransfer.getData("text/plain");
    if (member) dropped(member, ev.target);
  });

  $("confirm").addEventListener("click", async () => {
    if (!pending) return;
    const [kind, change] = pending;
    pending = null;
    const out = await call("POST", kind, change);
    if (out.httpStatus !== 200) { showCheck(out.error ? out : Object.assign(out, {ok: false}), null); return; }
    $("pending").hidden = true;
    await refresh();
  });
  $("cancel").addEventListener("click", () => { pending = null; $("pending").hidden = true; });

  // -- clicks inside the cards (explain, lock) ----------------------------------------
  $("grouping").addEventListener("click", async (ev) => {
    const who = ev.target.closest(".who");
    const lock = ev.target.closest(".lock");
    if (who) {
      const r = await fetch("/api/s/" + sid + "/explain?member=" + encodeURIComponent(who.dataset.id));
      const out = await r.json();
      $("explain").hidden = false;
      $("explain-text").textContent = out.text || out.error;
    } else if (lock) {
      const out = await call("POST", "lock", {group: lock.dataset.group,
                                               locked: lock.dataset.locked !== "true"});
      if (out.error) alertLine(out.error);
      await refresh();
    }
  });
  $("explain-close").addEventListener("click", () => { $("explain").hidden = true; });

  function alertLine(text) {
    $("progress-text").textContent = text;
  }

  // -- set-up: a weight change re-scores at once ----------------------------------------
  const form = $("settings");
  async function apply() {
    const data = {};
    new FormData(form).forEach((v, k) => { data[k] = v; });
    const out = await call("POST", "settings", data);
    const err = $("settings-error");
    err.hidden = !out.error;
    err.textContent = out.error || "";
    if (!out.error) await refresh();
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(); });
  form.querySelectorAll("input.weight").forEach((el) => el.addEventListener("change", apply));

  // -- runs ---------------------------------------------------------------------------
  for (const [id, path] of [["run", "run"], ["reoptimise", "reoptimise"], ["stop", "stop"]]) {
    $(id).addEventListener("click", async () => {
      const out = await call("POST", path);
      if (out.error) alertLine(out.error);
      await poll(true);
    });
  }
  $("undo").addEventListener("click", async () => { await call("POST", "undo"); await refresh(); });
  $("redo").addEventListener("click", async () => { await call("POST", "redo"); await refresh(); });

  function showJob(job) {
    const bar = $("bar");
    running = !!job && job.state === "running";
    $("stop").disabled = !running;
    $("run").disabled = running;
    $("reoptimise").disabled = running;
    body.classList.toggle("running", running);
    if (!job) return;
    const frac = job.time_limit > 0 ? Math.min(1, job.elapsed / job.time_limit) : 1;
    bar.style.width = (running ? 100 * frac : 100) + "%";
    const best = job.best === null || job.best === undefined ? "none yet" :
      job.best.toLocaleString(undefined, {maximumFractionDigits: 2});
    $("progress-text").textContent = running ?
      (job.stopping ? "Stopping: keeping the best grouping found... " :
       (job.kind === "run" ? "Running" : "Re-optimising") + ": ") +
      "best score " + best + ", " + job.left.toFixed(1) + " s left" :
      (job.state === "failed" || job.state === "lost" ? "Run " + job.state + ": " : "") + job.message;
  }

  // The session's status: the run's progress, undo/redo, and whether the grouping changed
  // (another tab, a finished run); `follow` redraws the cards then.
  async function showStatus(out, follow) {
    const wasRunning = running;
    showJob(out.job);
    $("undo").disabled = !out.undo;
    $("redo").disabled = !out.redo;
    $("undo").title = out.undo ? "Undo: " + out.undo : "Nothing to undo";
    $("redo").title = out.redo ? "Redo: " + out.redo : "Nothing to redo";
    if (follow && (out.rev !== rev || (wasRunning && !running))) await refresh();
  }

  async function poll(once) {
    const out = await call("GET", "status");
    if (out.httpStatus === 200) await showStatus(out, !once);
    if (!once) setTimeout(() => poll(false), running ? 400 : 1500);
  }

  // Progress is pushed by the server (server-sent events); where the stream cannot be
  // opened, the page asks for it instead.
  function listen() {
    if (!window.EventSource) { poll(false); return; }
    const events = new EventSource("/api/s/" + sid + "/events");
    events.onmessage = (ev) => { showStatus(JSON.parse(ev.data), true); };
    events.onerror = () => {
      // the browser reconnects by itself after a stream ends; a refused stream is closed
      if (events.readyState === EventSource.CLOSED) poll(false);
    };
  }
  listen();
})();
