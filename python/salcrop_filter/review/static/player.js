// The source video with the selected ratio's window drawn over it (and the saliency map as a toggle), and the
// cropped result drawn from the same video frame, so both stay in sync. Dragging the window proposes a keyframe;
// the server plans the path.

const HEAT = (() => {  // a dark-to-yellow colour ramp for the saliency map, alpha rising with the value
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    lut[i * 4] = Math.min(255, 90 + 400 * v);
    lut[i * 4 + 1] = Math.max(0, Math.min(255, 420 * (v - 0.35)));
    lut[i * 4 + 2] = Math.max(0, 160 * (1 - 3 * v));
    lut[i * 4 + 3] = Math.min(210, 320 * v);
  }
  return lut;
})();

export class Player {
  constructor(video, overlay, result, caption, state) {
    this.video = video;
    this.overlay = overlay;
    this.result = result;
    this.caption = caption;
    this.state = state;
    this.drag = null;  // {offset, pos}: the window being dragged, in source pixels along the axis
    this.onPin = null;  // (frame, cx, cy) when a drag ends
    this.onPick = null;  // (frame, [x, y, w, h]) when a box is drawn in pick mode
    this.onSelectFace = null;  // (face track id, frame) when a face's box is clicked
    this.box = null;  // {x0, y0, x1, y1}: the box being drawn (pick mode), source pixels
    this.heatCanvas = document.createElement("canvas");
    overlay.addEventListener("pointerdown", (e) => this.pointerDown(e));
    overlay.addEventListener("pointermove", (e) => this.pointerMove(e));
    overlay.addEventListener("pointerup", (e) => this.pointerUp(e));
    overlay.addEventListener("pointercancel", () => { this.drag = null; overlay.classList.remove("dragging"); });
  }

  // The window of frame f as planned, or as being dragged on the current frame.
  windowAt(f) {
    const p = this.state.plan;
    if (!p || f < 0 || f >= p.x.length) return null;
    const win = { x: p.x[f], y: p.y[f], w: p.w[f], h: p.h[f] };
    if (this.drag && f === this.state.frame) {
      if (p.axis === "x") win.x = this.drag.pos; else if (p.axis === "y") win.y = this.drag.pos;
    }
    return win;
  }

  scale() { return this.overlay.clientWidth / this.state.width; }

  // The window's rectangle in page coordinates (for tests and tools).
  windowRectOnPage() {
    const win = this.windowAt(this.state.frame);
    if (!win) return null;
    const r = this.overlay.getBoundingClientRect(), s = this.scale();
    return { x: r.left + win.x * s, y: r.top + win.y * s, width: win.w * s, height: win.h * s };
  }

  sourcePoint(e) {
    const r = this.overlay.getBoundingClientRect(), s = this.scale();
    return { x: (e.clientX - r.left) / s, y: (e.clientY - r.top) / s };
  }

  clampPos(pos) {
    const p = this.state.plan;
    const range = p.axis === "x" ? this.state.width - p.window[0] : this.state.height - p.window[1];
    return Math.max(0, Math.min(range, pos));
  }

  // The face (speakers=auto) whose box on the current frame holds a source point: the smallest such.
  faceAtPoint(pt) {
    let best = null;
    for (const t of this.state.facesAt(this.state.frame)) {
      const [x, y, w, h] = t.box;
      if (pt.x >= x && pt.x <= x + w && pt.y >= y && pt.y <= y + h && (!best || w * h < best.box[2] * best.box[3]))
        best = t;
    }
    return best;
  }

  // A face's box centre on the page (for tests and tools), or null when it is not on the current frame.
  faceRectOnPage(id) {
    const t = this.state.facesAt(this.state.frame).find((q) => q.id === id);
    if (!t) return null;
    const r = this.overlay.getBoundingClientRect(), s = this.scale();
    return { x: r.left + t.box[0] * s, y: r.top + t.box[1] * s, width: t.box[2] * s, height: t.box[3] * s };
  }

  pointerDown(e) {
    if (!this.state.picking && this.state.plan && this.onSelectFace) {  // a click on a face selects that person
      const face = this.faceAtPoint(this.sourcePoint(e));
      if (face) {
        this.video.pause();
        this.onSelectFace(face.id, this.state.frame);
        return;
      }
    }
    if (this.state.picking && this.state.plan && !this.state.busy) {
      this.video.pause();
      const pt = this.sourcePoint(e);
      this.box = { x0: pt.x, y0: pt.y, x1: pt.x, y1: pt.y };
      this.overlay.setPointerCapture(e.pointerId);
      this.draw();
      return;
    }
    const p = this.state.plan, win = this.windowAt(this.state.frame);
    if (!p || !win || p.axis === "none" || this.state.busy) return;
    this.video.pause();
    const pt = this.sourcePoint(e);
    const along = p.axis === "x" ? pt.x : pt.y, start = p.axis === "x" ? win.x : win.y;
    const len = p.axis === "x" ? win.w : win.h;
    // Inside the window: grab it where it was hit. Outside: centre it on the pointer, then drag.
    const offset = along >= start && along <= start + len ? along - start : len / 2;
    this.drag = { offset, pos: this.clampPos(along - offset) };
    this.overlay.setPointerCapture(e.pointerId);
    this.overlay.classList.add("dragging");
    this.draw();
  }

  pointerMove(e) {
    if (this.box) {
      const pt = this.sourcePoint(e);
      this.box.x1 = pt.x;
      this.box.y1 = pt.y;
      this.draw();
      return;
    }
    if (!this.drag) return;
    const pt = this.sourcePoint(e);
    const along = this.state.plan.axis === "x" ? pt.x : pt.y;
    this.drag.pos = this.clampPos(along - this.drag.offset);
    this.draw();
  }

  pointerUp(e) {
    if (this.box) {
      const b = this.box, W = this.state.width, H = this.state.height;
      this.box = null;
      const x = Math.max(0, Math.min(b.x0, b.x1)), y = Math.max(0, Math.min(b.y0, b.y1));
      const w = Math.min(W, Math.max(b.x0, b.x1)) - x, h = Math.min(H, Math.max(b.y0, b.y1)) - y;
      this.draw();
      if (this.onPick && w >= 4 && h >= 4)
        this.onPick(this.state.frame, [x, y, w, h].map((v) => Math.round(v * 10) / 10));
      return;
    }
    if (!this.drag) return;
    const win = this.windowAt(this.state.frame);
    this.drag = null;
    this.overlay.classList.remove("dragging");
    if (this.onPin && win) {
      const cx = Math.round((win.x + win.w / 2) * 10) / 10, cy = Math.round((win.y + win.h / 2) * 10) / 10;
      this.onPin(this.state.frame, cx, cy);
    }
  }

  resize() {  // the canvases' pixels to their CSS size (app.js's layout sets that)
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.overlay, this.result]) {
      c.width = Math.round(c.clientWidth * dpr);
      c.height = Math.round(c.clientHeight * dpr);
    }
  }

  draw() {
    const st = this.state, o = this.overlay, ctx = o.getContext("2d");
    ctx.clearRect(0, 0, o.width, o.height);
    const k = o.width / st.width;
    if (st.heatmap && st.maps) this.drawHeat(ctx, o.width, o.height);
    const win = this.windowAt(st.frame);
    if (win) {
      ctx.fillStyle = "rgba(0,0,0,0.55)";  // dim what the crop leaves out
      ctx.beginPath();
      ctx.rect(0, 0, o.width, o.height);
      ctx.rect(win.x * k, win.y * k, win.w * k, win.h * k);
      ctx.fill("evenodd");
      const pinned = st.keyframeAt(st.frame);
      ctx.lineWidth = Math.max(2, 2 * (window.devicePixelRatio || 1));
      ctx.strokeStyle = this.drag ? "#ffffff" : pinned ? "#ffd166" : "#4fb3ff";
      ctx.strokeRect(win.x * k, win.y * k, win.w * k, win.h * k);
      if (pinned) {  // the pinned centre
        const cx = pinned.x * k, cy = pinned.y * k, r = 7 * (window.devicePixelRatio || 1);
        ctx.fillStyle = "#ffd166";
        ctx.beginPath();
        ctx.moveTo(cx, cy - r); ctx.lineTo(cx + r, cy); ctx.lineTo(cx, cy + r); ctx.lineTo(cx - r, cy);
        ctx.fill();
      }
    }
    // Faces (speakers=auto): their boxes and ids; the followed one green, pinned gold, ignored grey, selected white.
    const p = st.plan, dpr = window.devicePixelRatio || 1;
    ctx.font = `${12 * dpr}px system-ui`;
    for (const t of st.facesAt(st.frame)) {
      const followed = p && p.speaker && p.speaker[st.frame] === t.id;
      const pinnedFace = p && (p.pinned || []).includes(t.id), ignoredFace = p && (p.ignored || []).includes(t.id);
      ctx.lineWidth = (followed || t.id === st.selectedFace ? 3 : 1.5) * dpr;
      ctx.setLineDash(ignoredFace ? [5, 4] : []);
      ctx.strokeStyle = t.id === st.selectedFace ? "#ffffff" : followed ? "#7CFC00" : pinnedFace ? "#ffd166" :
        ignoredFace ? "#8a8f96" : "#3f8fbf";
      ctx.strokeRect(t.box[0] * k, t.box[1] * k, t.box[2] * k, t.box[3] * k);
      ctx.fillStyle = ctx.strokeStyle;
      const speaks = t.speaking >= 0 ? ` ${Math.round(100 * t.speaking)}%` : "";
      ctx.fillText(`${t.id}${speaks}${pinnedFace ? " pinned" : ignoredFace ? " ignored" : ""}`, t.box[0] * k + 2 * dpr,
                   Math.max(12 * dpr, t.box[1] * k - 4 * dpr));
    }
    ctx.setLineDash([]);
    // Picked subjects: their tracked boxes on this frame (dashed where lost), and the box being drawn.
    ctx.lineWidth = Math.max(2, 2 * (window.devicePixelRatio || 1));
    for (const t of st.subjectsAt(st.frame)) {
      ctx.setLineDash(t.lost ? [6, 4] : []);
      ctx.strokeStyle = t.id === st.selectedSubject ? "#ff4fd8" : "#d94fff";
      ctx.strokeRect(t.box[0] * k, t.box[1] * k, t.box[2] * k, t.box[3] * k);
    }
    ctx.setLineDash([]);
    if (this.box) {
      const b = this.box;
      ctx.strokeStyle = "#ffffff";
      ctx.strokeRect(Math.min(b.x0, b.x1) * k, Math.min(b.y0, b.y1) * k, Math.abs(b.x1 - b.x0) * k,
                     Math.abs(b.y1 - b.y0) * k);
    }
    this.drawResult(win);
  }

  drawHeat(ctx, W, H) {
    const m = this.state.maps, f = Math.min(this.state.frame, m.t - 1);
    if (f < 0) return;
    const c = this.heatCanvas;
    c.width = m.w; c.height = m.h;
    const hc = c.getContext("2d"), img = hc.createImageData(m.w, m.h);
    const base = f * m.w * m.h;
    for (let i = 0; i < m.w * m.h; i++) img.data.set(HEAT.subarray(m.data[base + i] * 4, m.data[base + i] * 4 + 4), i * 4);
    hc.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(c, 0, 0, W, H);
  }

  drawResult(win) {
    const r = this.result, ctx = r.getContext("2d");
    if (!win || this.video.readyState < 2) {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, r.width, r.height);
      return;
    }
    const s = this.video.videoWidth / this.state.width;  // a proxy is smaller than the source
    ctx.drawImage(this.video, win.x * s, win.y * s, win.w * s, win.h * s, 0, 0, r.width, r.height);
    const p = this.state.plan;
    this.caption.textContent = `${p.ratio} · ${p.window[0]}×${p.window[1]} · x ${win.x} y ${win.y}`;
  }
}
