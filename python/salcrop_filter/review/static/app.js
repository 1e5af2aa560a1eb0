// salcrop review: the page's state in one object, the server as the only source of paths. Every edit is sent
// as the ratio's whole set of keyframes and forced modes; the server re-plans with the core and answers the path.

import { api } from "./api.js";
import { Player } from "./player.js";
import { FACE_ROW, Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);

const state = {
  videos: [], ratios: [], video: 0, ratio: null,
  width: 16, height: 9, fps: 25, frames: 0, times: null,
  maps: null, plan: null, analysis: "queued", analysisText: "",
  frame: 0, heatmap: false, selectedShot: 0, selectedKey: null, busy: false,
  histories: new Map(),  // "video/ratio" -> {past: [edits], future: [edits]}
  keyframes() { return this.plan ? this.plan.keyframes : []; },
  keyframeAt(f) { return this.keyframes().find((k) => k.frame === f) || null; },
  picking: false, selectedSubject: null,
  // speakers=auto: the face tracks [{id, first, points: [[x, y, w, h, speaking] or null]}] and the one selected.
  faces: [], selectedFace: null,
  facesAt(f) {
    const out = [];
    for (const t of this.faces) {
      const q = t.points[f - t.first];
      if (q) out.push({ id: t.id, box: q.slice(0, 4), speaking: q[4] });
    }
    return out;
  },
  subjects() { return this.plan && this.plan.subjects ? this.plan.subjects : []; },
  // The picked subjects' boxes on frame f: [{id, box: [x, y, w, h], lost}].
  subjectsAt(f) {
    const out = [];
    for (const t of this.subjects()) {
      const p = t.points[f - t.first];
      if (p) out.push({ id: t.id, box: p.slice(0, 4), lost: !!p[4] });
    }
    return out;
  },
};

const video = $("player");
const player = new Player(video, $("overlay"), $("result"), $("result-caption"), state);
const timeline = new Timeline($("timeline"), state);
let dirty = true;

// --- messages ------------------------------------------------------------------------------------------

function say(text, error = false) {
  const m = $("message");
  m.textContent = text;
  m.className = error ? "error" : "";
}

function clock(seconds) {
  const m = Math.floor(seconds / 60), s = seconds - 60 * m;
  return `${m}:${s.toFixed(2).padStart(5, "0")}`;
}

// --- time and frames -----------------------------------------------------------------------------------

function frameAtTime(t) {
  if (!state.times) return Math.max(0, Math.floor(t * state.fps + 1e-6));
  const rel = state.times, t0 = rel[0];
  let lo = 0, hi = rel.length - 1;
  while (lo < hi) {  // the last frame shown at or before t
    const mid = (lo + hi + 1) >> 1;
    if (rel[mid] - t0 <= t + 1e-4) lo = mid; else hi = mid - 1;
  }
  return lo;
}

function seek(f) {
  const n = state.frames || Math.round((video.duration || 0) * state.fps);
  f = Math.max(0, Math.min(Math.max(n - 1, 0), Math.round(f)));
  const start = state.times ? state.times[f] - state.times[0] : f / state.fps;
  video.pause();
  // The middle of the frame's interval, so rounding never shows its neighbour.
  video.currentTime = start + 0.5 / state.fps;
  state.frame = f;
  dirty = true;
}

function tick() {
  const f = frameAtTime(video.currentTime);
  if (f !== state.frame && !video.seeking) { state.frame = f; dirty = true; }
  if (!video.paused) dirty = true;  // the result is drawn from the playing video
  if (dirty) {
    dirty = false;
    const shot = currentShot();  // the shot panel follows the playhead
    if (shot >= 0) state.selectedShot = shot;
    player.draw();
    timeline.draw();
    const t = state.times ? state.times[state.frame] - state.times[0] : state.frame / state.fps;
    $("clock").textContent = `frame ${state.frame}${state.frames ? " / " + (state.frames - 1) : ""} · ${clock(t)}`;
    updateShotPanel();
  }
  requestAnimationFrame(tick);
}

// --- the plan and its edits ----------------------------------------------------------------------------

function historyOf() {
  const key = `${state.video}/${state.ratio}`;
  if (!state.histories.has(key)) state.histories.set(key, { past: [], future: [] });
  return state.histories.get(key);
}

function currentEdits() {
  const p = state.plan;
  return { keyframes: p.keyframes.map((k) => ({ ...k })), modes: { ...p.modes }, subjects: state.subjects(),
           pinned: [...(p.pinned || [])], ignored: [...(p.ignored || [])] };
}

function setPlan(plan) {
  const resized = !state.plan || state.plan.window[0] !== plan.window[0] || state.plan.window[1] !== plan.window[1];
  state.plan = plan;
  document.body.dataset.planVersion = String(plan.version);
  document.body.dataset.ratio = plan.ratio;
  if (state.selectedKey !== null && !state.keyframeAt(state.selectedKey)) state.selectedKey = null;
  if (resized) layout();
  renderKeyframeList();
  if (state.selectedSubject !== null && !state.subjects().some((t) => t.id === state.selectedSubject))
    state.selectedSubject = null;
  renderSubjectList();
  renderFaceList();
  updateButtons();
  $("plan-time").textContent =
    `last plan: ${plan.planned_shots} shot(s) planned by the core in ${plan.planned_ms} ms`;
  dirty = true;
}

async function loadPlan() {
  const plan = await api.plan(state.video, state.ratio);
  setPlan(plan);
}

// One server round-trip that re-plans the path: no second one starts while it runs (the buttons grey out, and the
// tests wait on body[data-busy]).
async function replanning(work) {
  state.busy = true;
  document.body.dataset.busy = "1";
  try {
    return await work();
  } finally {
    state.busy = false;
    delete document.body.dataset.busy;
    renderFaceList();
  }
}

// A new change: the edits before it can be undone, what was undone before it cannot be redone.
function remember(before) {
  const h = historyOf();
  h.past.push(before);
  h.future = [];
}

// Sends the ratio's whole edits; `how` says which history stack the previous edits go to.
async function applyEdits(next, how = "edit") {
  if (!state.plan) return false;
  if (state.busy) { say("still re-planning the previous change…"); return false; }
  const before = currentEdits();
  return replanning(async () => {
    try {
      const plan = await api.putEdits(state.video, state.ratio, state.plan.version, next);
      if (how === "edit") remember(before);
      else if (how === "undo") historyOf().future.push(before);
      else if (how === "redo") historyOf().past.push(before);
      setPlan(plan);
      say(`re-planned: ${plan.planned_shots} shot(s) in ${plan.planned_ms} ms`);
      return true;
    } catch (e) {
      if (e.status === 409 && e.body.stale) {
        await loadPlan();
        state.histories.delete(`${state.video}/${state.ratio}`);
        updateButtons();
        say(`${e.message}. Reloaded the saved edits.`, true);
      } else {
        say(e.message, true);
      }
      return false;
    }
  });
}

function pin(frame, x, y) {
  const e = currentEdits();
  e.keyframes = e.keyframes.filter((k) => k.frame !== frame);
  e.keyframes.push({ frame, x, y });
  state.selectedKey = frame;
  return applyEdits(e);
}

function moveKey(from, to) {
  const e = currentEdits(), k = e.keyframes.find((q) => q.frame === from);
  if (!k) return;
  e.keyframes = e.keyframes.filter((q) => q.frame !== from && q.frame !== to);
  e.keyframes.push({ ...k, frame: to });
  state.selectedKey = to;
  seek(to);
  applyEdits(e);
}

function deleteKey(frame) {
  const e = currentEdits();
  e.keyframes = e.keyframes.filter((k) => k.frame !== frame);
  if (state.selectedKey === frame) state.selectedKey = null;
  applyEdits(e);
}

// A box drawn on the video: the server tracks it through its shot (the selected subject, if any, is redone from
// this frame on: a drift fixed) and answers the re-planned path.
async function pickSubject(frame, box) {
  if (!state.plan || state.busy) return;
  const before = currentEdits();
  const redo = state.subjects().find((t) => t.id === state.selectedSubject && frame >= t.first &&
                                            frame < t.first + t.points.length);
  say("tracking the subject through its shot…");
  await replanning(async () => {
    try {
      const plan = await api.pickSubject(state.video, state.ratio, state.plan.version, frame, box,
                                         redo ? redo.id : null);
      remember(before);
      setPlan(plan);
      const picked = redo ? redo.id : Math.max(...plan.subjects.map((t) => t.id));
      state.selectedSubject = picked;
      renderSubjectList();
      say(`subject ${picked} tracked and kept; re-planned in ${plan.planned_ms} ms`);
    } catch (e) {
      say(e.message, true);
    }
  });
}

function deleteSubject(id) {
  const e = currentEdits();
  e.subjects = e.subjects.filter((t) => t.id !== id);
  if (state.selectedSubject === id) state.selectedSubject = null;
  applyEdits(e);
}

function renderSubjectList() {
  const ol = $("subjects"), tracks = state.subjects();
  ol.replaceChildren();
  $("subject-count").textContent = tracks.length ? `(${tracks.length})` : "";
  for (const t of tracks) {
    const li = document.createElement("li");
    li.dataset.id = String(t.id);
    const lost = t.points.filter((p) => p[4]).length;
    li.append(`subject ${t.id} · picked on frame ${t.frame} · frames ${t.first}–${t.first + t.points.length - 1}` +
              (lost ? ` · lost on ${lost}` : ""));
    if (t.id === state.selectedSubject) li.className = "selected";
    const del = document.createElement("button");
    del.textContent = "✕";
    del.title = "Delete this subject";
    del.addEventListener("click", (ev) => { ev.stopPropagation(); deleteSubject(t.id); });
    li.append(del);
    li.addEventListener("click", () => {
      state.selectedSubject = state.selectedSubject === t.id ? null : t.id;
      if (state.selectedSubject !== null) seek(t.frame);
      renderSubjectList();
      dirty = true;
    });
    ol.append(li);
  }
}

// --- people (speakers=auto) ------------------------------------------------------------------------------

function selectFace(id, frame) {
  state.selectedFace = id;
  if (frame !== undefined && frame !== state.frame) seek(frame);
  renderFaceList();
  dirty = true;
}

// pin: follow this face whenever it is on screen; ignore: never; auto: who speaks decides. One edit, re-planned
// by the core like any other (undo/redo, saved with the session, rendered).
function setFace(id, how) {
  const e = currentEdits();
  e.pinned = e.pinned.filter((q) => q !== id);
  e.ignored = e.ignored.filter((q) => q !== id);
  if (how === "pin") e.pinned.push(id);
  else if (how === "ignore") e.ignored.push(id);
  return applyEdits(e);
}

async function keepFace(id) {
  if (!state.plan || state.busy) return;
  const before = currentEdits();
  await replanning(async () => {
    try {
      const plan = await api.keepFace(state.video, state.ratio, state.plan.version, state.frame, id);
      remember(before);
      setPlan(plan);
      state.selectedSubject = Math.max(...plan.subjects.map((t) => t.id));
      renderSubjectList();
      say(`face ${id} kept as subject ${state.selectedSubject}; re-planned in ${plan.planned_ms} ms`);
    } catch (e) {
      say(e.message, true);
    }
  });
}

function renderFaceList() {
  const panel = $("people-panel");
  panel.hidden = !state.faces.length;
  document.querySelector(".faces-legend").hidden = !state.faces.length;
  if (!state.faces.length) return;
  const p = state.plan, ol = $("faces");
  const pinned = p ? p.pinned || [] : [], ignored = p ? p.ignored || [] : [];
  ol.replaceChildren();
  $("face-count").textContent = `(${state.faces.length})`;
  for (const t of state.faces) {
    const li = document.createElement("li");
    li.dataset.id = String(t.id);
    const seen = t.points.filter((q) => q).length;
    const followed = p && p.speaker ? p.speaker.filter((s) => s === t.id).length : 0;
    li.append(`face ${t.id} · ${t.first}–${t.first + t.points.length - 1} · seen ${seen} · followed ${followed}`);
    li.title = `face ${t.id}: frames ${t.first}–${t.first + t.points.length - 1}, on screen on ${seen}, ` +
      `followed on ${followed}`;
    li.classList.toggle("selected", t.id === state.selectedFace);
    li.classList.toggle("pinned", pinned.includes(t.id));
    li.classList.toggle("ignored", ignored.includes(t.id));
    li.addEventListener("click", () => {
      const first = t.points.findIndex((q) => q);
      selectFace(t.id, t.id === state.selectedFace ? undefined : t.first + Math.max(0, first));
    });
    ol.append(li);
  }
  const sel = state.faces.find((t) => t.id === state.selectedFace);
  $("face-info").textContent = sel ? `face ${sel.id}: ` + (pinned.includes(sel.id) ? "pinned (followed whenever on screen)" :
    ignored.includes(sel.id) ? "ignored (never followed)" : "auto (followed when it holds the floor)") :
    "click a face on the video or its lane on the timeline";
  for (const id of ["face-pin", "face-ignore", "face-auto", "face-keep"]) $(id).disabled = !sel || state.busy;
  if (sel) {
    $("face-pin").classList.toggle("active", pinned.includes(sel.id));
    $("face-ignore").classList.toggle("active", ignored.includes(sel.id));
    $("face-auto").classList.toggle("active", !pinned.includes(sel.id) && !ignored.includes(sel.id));
  }
}

function setMode(shot, mode) {
  const e = currentEdits();
  if (mode === "auto") delete e.modes[String(shot)]; else e.modes[String(shot)] = mode;
  applyEdits(e);
}

async function undo() {
  const h = historyOf();
  if (!h.past.length || state.busy) return;
  const target = h.past.pop();
  if (!(await applyEdits(target, "undo"))) h.past.push(target);
  updateButtons();
}

async function redo() {
  const h = historyOf();
  if (!h.future.length || state.busy) return;
  const target = h.future.pop();
  if (!(await applyEdits(target, "redo"))) h.future.push(target);
  updateButtons();
}

// --- side panel ----------------------------------------------------------------------------------------

function renderKeyframeList() {
  const ol = $("keyframes"), keys = [...state.keyframes()].sort((a, b) => a.frame - b.frame);
  ol.replaceChildren();
  $("keyframe-count").textContent = keys.length ? `(${keys.length})` : "";
  for (const k of keys) {
    const li = document.createElement("li");
    li.dataset.frame = String(k.frame);
    const t = state.times ? state.times[k.frame] - state.times[0] : k.frame / state.fps;
    li.append(`frame ${k.frame} · ${clock(t)} · ${state.plan.axis === "y" ? "y " + Math.round(k.y) : "x " + Math.round(k.x)}`);
    if (k.frame === state.selectedKey) li.className = "selected";
    const del = document.createElement("button");
    del.textContent = "✕";
    del.title = "Delete this keyframe";
    del.addEventListener("click", (ev) => { ev.stopPropagation(); deleteKey(k.frame); });
    li.append(del);
    li.addEventListener("click", () => { state.selectedKey = k.frame; seek(k.frame); renderKeyframeList(); });
    ol.append(li);
  }
}

function currentShot() {
  const p = state.plan;
  if (!p) return -1;
  return p.shots.findIndex((s) => state.frame >= s.start && state.frame < s.end);
}

function updateShotPanel() {
  const p = state.plan, info = $("shot-info");
  const k = state.selectedShot;
  if (!p || k < 0 || k >= p.shots.length) { info.textContent = "—"; return; }
  const s = p.shots[k];
  const text = `shot ${k + 1} of ${p.shots.length}: frames ${s.start}–${s.end - 1}, ` +
    (s.forced ? `forced ${s.forced}` : `auto (planned as ${s.mode})`);
  if (info.textContent !== text) info.textContent = text;
  for (const b of $("modes").querySelectorAll("button")) {
    const active = (s.forced || "auto") === b.dataset.mode;
    b.classList.toggle("active", active);
    b.classList.toggle("forced", active && !!s.forced);
    b.disabled = state.busy;
  }
}

function updateButtons() {
  const h = state.plan ? historyOf() : { past: [], future: [] };
  $("undo").disabled = !h.past.length;
  $("redo").disabled = !h.future.length;
  const ready = !!state.plan;
  for (const id of ["export", "render", "render-all"]) $(id).disabled = !ready;
  for (const id of ["download-path", "download-keyframes"]) {
    const a = $(id);
    if (ready) {
      a.href = id === "download-path" ? api.pathUrl(state.video, state.ratio) : api.keyframesUrl(state.video, state.ratio);
      const stem = state.videos[state.video].name.replace(/\.[^.]*$/, "") + "_" + state.ratio.replace(":", "x");
      a.download = `${stem}.${id === "download-path" ? "path" : "keyframes"}.json`;
    } else {
      a.removeAttribute("href");
    }
  }
  for (const b of $("ratios").querySelectorAll("button")) b.classList.toggle("active", b.dataset.ratio === state.ratio);
}

// --- analysis, renders ---------------------------------------------------------------------------------

async function waitForAnalysis(v) {
  $("analysis").hidden = false;
  document.body.dataset.analysis = "running";
  for (;;) {
    if (v !== state.video) return;
    let a;
    try { a = await api.analysis(v); } catch (e) { say(e.message, true); await sleep(1000); continue; }
    const p = a.progress;
    if (a.state === "failed") {
      $("analysis-text").textContent = `analysis failed: ${a.error}`;
      say(a.error, true);
      document.body.dataset.analysis = "failed";
      return;
    }
    if (a.state === "ready") {
      state.times = a.times;
      state.frames = a.frames;
      state.fps = a.fps;
      state.shots = a.shots;
      state.faces = a.faces || [];
      $("timeline").style.height = `${230 + state.faces.length * FACE_ROW}px`;
      timeline.resize();
      $("analysis").hidden = true;
      say(p.cached ? `analysis loaded from the cache (${a.frames} frames)` :
        `analysed ${a.frames} frames in ${p.elapsed.toFixed(1)} s (${p.rate.toFixed(1)} frames/s)`);
      if (a.media === "proxy") {  // the server made a copy the browser can play; show it where we were
        const t = video.currentTime;
        video.src = `${api.mediaUrl(v)}?proxy`;
        video.addEventListener("loadedmetadata", () => { video.currentTime = t; }, { once: true });
        say(`${state.videos[v].name} does not play in a browser: showing an H.264 copy (renders use the original)`);
      }
      state.maps = await api.maps(v);
      await loadPlan();
      document.body.dataset.analysis = "ready";
      return;
    }
    const total = p.total || 0;
    $("analysis-bar").max = total || 1;
    $("analysis-bar").value = p.done;
    state.analysisText = a.state === "queued" ? "waiting for the other videos' analysis…" :
      `analysing the saliency once: ${p.done}${total ? " / " + total : ""} frames, ${p.rate.toFixed(1)} frames/s` +
      (p.eta !== null ? `, ETA ${clock(p.eta)}` : "");
    $("analysis-text").textContent = state.analysisText;
    dirty = true;
    await sleep(300);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startRender(ratios) {
  let job;
  try { job = await api.render(state.video, ratios); } catch (e) { say(e.message, true); return; }
  const bar = $("render-bar"), text = $("render-text");
  bar.hidden = false;
  document.body.dataset.render = "running";
  for (;;) {
    try { job = await api.renderJob(job.id); } catch (e) { say(e.message, true); break; }
    const n = job.ratios.length, i = job.index ?? 0;
    bar.max = 1;
    bar.value = job.state === "done" ? 1 : (i + (job.total ? job.done / job.total : 0)) / n;
    if (job.state === "done") {
      text.textContent = `wrote ${job.outputs.join(", ")}`;
      say(`rendered ${job.ratios.join(", ")}`);
      document.body.dataset.render = "done";
      break;
    }
    if (job.state === "failed") {
      text.textContent = `render failed: ${job.error}`;
      say(job.error, true);
      document.body.dataset.render = "failed";
      break;
    }
    text.textContent = job.state === "queued" ? "waiting for the renderer…" :
      `rendering ${job.ratio} (${i + 1} of ${n}): ${job.done} / ${job.total} frames, ${job.rate} frames/s`;
    await sleep(300);
  }
}

// --- set-up --------------------------------------------------------------------------------------------

// Sizes from the window alone (never from the panels' own sizes, which would feed back): the source and the
// result share one height, as large as the width beside the side panel and 60% of the window's height allow.
function layout() {
  const main = document.querySelector("main"), side = $("side");
  const avail = main.clientWidth - side.offsetWidth - 24 - 24;
  const ww = state.plan ? state.plan.window[0] : 9, wh = state.plan ? state.plan.window[1] : 16;
  const aspect = state.width / state.height + ww / wh;
  const h = Math.max(120, Math.floor(Math.min(avail / aspect, window.innerHeight * 0.6)));
  const stage = $("stage");
  stage.style.width = `${Math.floor(h * state.width / state.height)}px`;
  $("source-panel").style.width = stage.style.width;  // the controls wrap under a narrow (portrait) source
  stage.style.height = `${h}px`;
  const result = $("result");
  result.style.width = `${Math.floor(h * ww / wh)}px`;
  result.style.height = `${h}px`;
  player.resize();
  timeline.resize();
  dirty = true;
}

async function selectVideo(v) {
  state.video = v;
  const info = state.videos[v];
  Object.assign(state, { width: info.width, height: info.height, fps: info.fps, frames: 0, times: null,
                         maps: null, plan: null, frame: 0, selectedShot: 0, selectedKey: null,
                         faces: [], selectedFace: null });
  renderFaceList();
  timeline.stripKey = "";
  video.src = api.mediaUrl(v);
  renderKeyframeList();
  updateButtons();
  layout();
  await waitForAnalysis(v);
}

async function selectRatio(r) {
  if (r === state.ratio && state.plan) return;
  state.ratio = r;
  timeline.stripKey = "";
  updateButtons();
  if (state.times) {
    try { await loadPlan(); } catch (e) { say(e.message, true); }
  }
}

function bind() {
  player.onPin = (f, x, y) => pin(f, x, y);
  player.onPick = (f, box) => pickSubject(f, box);
  $("pick-subject").addEventListener("click", () => {
    state.picking = !state.picking;
    $("pick-subject").setAttribute("aria-pressed", String(state.picking));
    $("pick-subject").classList.toggle("active", state.picking);
  });
  player.onSelectFace = selectFace;
  timeline.onSelectFace = selectFace;
  $("face-pin").addEventListener("click", () => { if (state.selectedFace !== null) setFace(state.selectedFace, "pin"); });
  $("face-ignore").addEventListener("click", () => { if (state.selectedFace !== null) setFace(state.selectedFace, "ignore"); });
  $("face-auto").addEventListener("click", () => { if (state.selectedFace !== null) setFace(state.selectedFace, "auto"); });
  $("face-keep").addEventListener("click", () => { if (state.selectedFace !== null) keepFace(state.selectedFace); });
  timeline.onSeek = (f) => seek(f);
  timeline.onMoveKey = moveKey;
  timeline.onDeleteKey = deleteKey;
  timeline.onSelectShot = (k) => { state.selectedShot = k; dirty = true; };
  timeline.onSelectKey = (f) => { state.selectedKey = f; renderKeyframeList(); dirty = true; };
  $("heatmap").addEventListener("change", (e) => { state.heatmap = e.target.checked; dirty = true; });
  $("play").addEventListener("click", () => (video.paused ? video.play() : video.pause()));
  video.addEventListener("play", () => { $("play").textContent = "Pause"; });
  video.addEventListener("pause", () => { $("play").textContent = "Play"; dirty = true; });
  video.addEventListener("seeked", () => { dirty = true; });
  video.addEventListener("error", () => {
    if (!video.src.endsWith("?proxy")) return;  // the original: a playable copy comes with the analysis
    say("this browser cannot play the video; editing still works on the timeline", true);
  });
  $("prev-frame").addEventListener("click", () => seek(state.frame - 1));
  $("next-frame").addEventListener("click", () => seek(state.frame + 1));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  for (const b of $("modes").querySelectorAll("button"))
    b.addEventListener("click", () => { if (state.plan) setMode(state.selectedShot, b.dataset.mode); });
  $("export").addEventListener("click", async () => {
    try {
      const r = await api.exportFiles(state.video, state.ratio);
      say(`wrote ${r.written.join(" and ")}`);
    } catch (e) { say(e.message, true); }
  });
  $("render").addEventListener("click", () => startRender([state.ratio]));
  $("render-all").addEventListener("click", () => startRender(state.ratios));
  $("import-keyframes").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file || !state.plan) return;
    const before = currentEdits();
    try {
      const plan = await api.importKeyframes(state.video, state.ratio, state.plan.version, await file.text());
      historyOf().past.push(before);
      historyOf().future = [];
      setPlan(plan);
      say(`loaded ${plan.keyframes.length} keyframe(s) from ${file.name}`);
    } catch (err) { say(`${file.name}: ${err.message}`, true); }
  });
  $("video-select").addEventListener("change", (e) => selectVideo(Number(e.target.value)));
  window.addEventListener("resize", layout);
  window.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === "z") { e.preventDefault(); (e.shiftKey ? redo : undo)(); }
    else if (mod && e.key.toLowerCase() === "y") { e.preventDefault(); redo(); }
    else if (e.key === " ") { e.preventDefault(); video.paused ? video.play() : video.pause(); }
    else if (e.key === "ArrowLeft") seek(state.frame - 1);
    else if (e.key === "ArrowRight") seek(state.frame + 1);
    else if ((e.key === "Delete" || e.key === "Backspace") && state.selectedKey !== null) deleteKey(state.selectedKey);
  });
}

async function main() {
  bind();
  requestAnimationFrame(tick);
  let s;
  try { s = await api.session(); } catch (e) { say(e.message, true); return; }
  state.videos = s.videos;
  state.ratios = s.ratios;
  state.ratio = s.ratios[0];
  const sel = $("video-select");
  for (const v of s.videos) sel.append(new Option(v.name, String(v.id)));
  sel.hidden = s.videos.length < 2;
  for (const r of s.ratios) {
    const b = document.createElement("button");
    b.textContent = r;
    b.dataset.ratio = r;
    b.addEventListener("click", () => selectRatio(r));
    $("ratios").append(b);
  }
  await selectVideo(0);
}

// For tests and for poking at the page from the console: read-only use, please.
window.review = { state, seek, player, timeline, undo, redo, setMode, selectRatio, pickSubject, selectFace, setFace,
                  keepFace };
main();
