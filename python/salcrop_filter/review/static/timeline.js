// The timeline: the saliency along the window's axis behind the planned path (the window's extent and its
// centre), the keyframes, the shots with their segments, and the playhead. Frames run left to right. With faces
// (speakers=auto), a lane per face track above the shots: where it is on screen, how likely it speaks (brighter),
// and where the camera follows it (a green bar).

const SEG_COLOURS = { stationary: "#6c7a89", pan: "#3fbf7f", ease: "#f08c3a", cut: "#e8e8e8" };
export const FACE_ROW = 16;
const SHOT_ROW = 34, PAD = 6, KEY_HIT = 8;

export class Timeline {
  constructor(canvas, state) {
    this.canvas = canvas;
    this.state = state;
    this.strip = null;  // the saliency strip as an image, frames x bins
    this.stripKey = "";
    this.onSeek = null;  // (frame)
    this.onMoveKey = null;  // (fromFrame, toFrame)
    this.onDeleteKey = null;  // (frame)
    this.onSelectShot = null;  // (shot index)
    this.onSelectKey = null;  // (frame)
    this.onSelectFace = null;  // (face track id, frame)
    this.action = null;
    canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    canvas.addEventListener("dblclick", (e) => this.doubleClick(e));
  }

  get n() { return this.state.frames || 1; }
  plotBox() {
    const W = this.canvas.width, H = this.canvas.height, dpr = window.devicePixelRatio || 1;
    const lanes = this.state.faces.length * FACE_ROW;
    return { x0: PAD * dpr, x1: W - PAD * dpr, y0: PAD * dpr, y1: H - (SHOT_ROW + lanes + 2 * PAD) * dpr,
             fy0: H - (SHOT_ROW + lanes + PAD) * dpr, sy0: H - (SHOT_ROW + PAD) * dpr, sy1: H - PAD * dpr };
  }
  // The face lane under a point (its track), or null.
  faceAt(pt, b) {
    const dpr = window.devicePixelRatio || 1;
    if (pt.y < b.fy0 || pt.y >= b.sy0) return null;
    return this.state.faces[Math.floor((pt.y - b.fy0) / (FACE_ROW * dpr))] || null;
  }
  fx(f, b) { return b.x0 + (f + 0.5) / this.n * (b.x1 - b.x0); }
  frameAtX(px, b) { return Math.max(0, Math.min(this.n - 1, Math.floor((px - b.x0) / (b.x1 - b.x0) * this.n))); }
  axisLength() {
    const p = this.state.plan;
    return p && p.axis === "y" ? this.state.height : this.state.width;
  }
  py(pos, b) { return b.y0 + pos / this.axisLength() * (b.y1 - b.y0); }

  resize() {
    const dpr = window.devicePixelRatio || 1, c = this.canvas;
    c.width = Math.round(c.clientWidth * dpr);
    c.height = Math.round(c.clientHeight * dpr);
  }

  // The saliency summed across the axis the window does not move on, one column per frame (drawing only).
  buildStrip() {
    const st = this.state, m = st.maps, p = st.plan;
    if (!m || !p) return;
    const axis = p.axis === "y" ? "y" : "x", key = `${axis}:${m.t}`;
    if (key === this.stripKey) return;
    const bins = axis === "x" ? m.w : m.h, c = document.createElement("canvas");
    c.width = m.t; c.height = bins;
    const ctx = c.getContext("2d"), img = ctx.createImageData(m.t, bins), prof = new Float32Array(bins);
    for (let f = 0; f < m.t; f++) {
      prof.fill(0);
      const base = f * m.w * m.h;
      for (let r = 0; r < m.h; r++)
        for (let q = 0; q < m.w; q++) prof[axis === "x" ? q : r] += m.data[base + r * m.w + q];
      let peak = 1e-9;
      for (let b = 0; b < bins; b++) peak = Math.max(peak, prof[b]);
      for (let b = 0; b < bins; b++) {
        const v = prof[b] / peak, o = (b * m.t + f) * 4;
        img.data[o] = 40 + 200 * v; img.data[o + 1] = 30 + 90 * v * v; img.data[o + 2] = 60 + 40 * (1 - v);
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    this.strip = c;
    this.stripKey = key;
  }

  draw() {
    const st = this.state, c = this.canvas, ctx = c.getContext("2d"), b = this.plotBox();
    const dpr = window.devicePixelRatio || 1;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.fillStyle = "#111316";
    ctx.fillRect(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
    const p = st.plan;
    if (!p) {
      ctx.fillStyle = "#9aa3ad";
      ctx.font = `${12 * dpr}px system-ui`;
      ctx.fillText(st.analysisText || "waiting for the analysis…", b.x0 + 10 * dpr, b.y0 + 20 * dpr);
      this.drawPlayhead(ctx, b, dpr);
      return;
    }
    this.buildStrip();
    if (this.strip) {
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.strip, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
    }
    const along = p.axis === "y" ? p.y : p.x, len = p.axis === "y" ? p.h : p.w;
    // the window's extent
    ctx.fillStyle = "rgba(79,179,255,0.18)";
    ctx.beginPath();
    for (let f = 0; f < along.length; f++) ctx.lineTo(this.fx(f, b), this.py(along[f], b));
    for (let f = along.length - 1; f >= 0; f--) ctx.lineTo(this.fx(f, b), this.py(along[f] + len[f], b));
    ctx.closePath();
    ctx.fill();
    // its centre
    ctx.strokeStyle = "#4fb3ff";
    ctx.lineWidth = 2 * dpr;
    ctx.beginPath();
    for (let f = 0; f < along.length; f++) {
      const x = this.fx(f, b), y = this.py(along[f] + len[f] / 2, b);
      if (f === 0 || p.shots.some((s) => s.start === f)) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
    // picked subjects: their boxes' extent along the axis over their frames (a lane each; gaps where lost)
    for (const t of st.subjects()) {
      ctx.fillStyle = t.id === st.selectedSubject ? "rgba(255,79,216,0.55)" : "rgba(217,79,255,0.38)";
      t.points.forEach((q, k) => {
        if (q[4]) return;
        const f = t.first + k, lo = p.axis === "y" ? q[1] : q[0], ext = p.axis === "y" ? q[3] : q[2];
        const y0 = this.py(lo, b), y1 = this.py(lo + ext, b);
        ctx.fillRect(this.fx(f - 0.5, b), Math.min(y0, y1), Math.max(1, this.fx(f + 0.5, b) - this.fx(f - 0.5, b)),
                     Math.abs(y1 - y0));
      });
    }
    ctx.fillStyle = "#9aa3ad";
    ctx.font = `${11 * dpr}px system-ui`;
    ctx.fillText(p.axis === "none" ? "the window is the whole frame" : `window ${p.axis}`, b.x0 + 4 * dpr, b.y0 + 12 * dpr);
    // keyframes
    for (const k of st.keyframes()) {
      const frame = this.action && this.action.kind === "key" && this.action.from === k.frame ? this.action.to : k.frame;
      const x = this.fx(frame, b), y = this.py(p.axis === "y" ? k.y : k.x, b), r = 6 * dpr;
      ctx.fillStyle = k.frame === st.selectedKey ? "#ffffff" : "#ffd166";
      ctx.strokeStyle = "#15171a";
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath();
      ctx.fill(); ctx.stroke();
    }
    this.drawFaces(ctx, b, dpr);
    // shots and their segments
    for (const [s, e, kind] of p.segments) {
      ctx.fillStyle = SEG_COLOURS[kind] || "#555";
      ctx.fillRect(this.fx(s - 0.5, b), b.sy0, this.fx(e - 0.5, b) - this.fx(s - 0.5, b), b.sy1 - b.sy0);
    }
    ctx.font = `${11 * dpr}px system-ui`;
    p.shots.forEach((s, k) => {
      const x0 = this.fx(s.start - 0.5, b), x1 = this.fx(s.end - 0.5, b);
      ctx.strokeStyle = k === st.selectedShot ? "#ffffff" : "#15171a";
      ctx.lineWidth = (k === st.selectedShot ? 2.5 : 2) * dpr;
      ctx.strokeRect(x0 + dpr, b.sy0 + dpr, x1 - x0 - 2 * dpr, b.sy1 - b.sy0 - 2 * dpr);
      const label = s.forced ? `${s.forced} (set)` : `auto: ${s.mode}`;
      if (ctx.measureText(label).width < x1 - x0 - 8 * dpr) {
        ctx.fillStyle = "#0b0c0e";
        ctx.fillText(label, x0 + 5 * dpr, b.sy0 + (SHOT_ROW / 2 + 4) * dpr);
      }
      if (s.start > 0) {  // the cut
        ctx.strokeStyle = "rgba(255,255,255,0.35)";
        ctx.lineWidth = dpr;
        ctx.beginPath(); ctx.moveTo(x0, b.y0); ctx.lineTo(x0, b.y1); ctx.stroke();
      }
    });
    this.drawPlayhead(ctx, b, dpr);
  }

  drawFaces(ctx, b, dpr) {
    const st = this.state, p = st.plan, row = FACE_ROW * dpr, pinned = p.pinned || [], ignored = p.ignored || [];
    ctx.font = `${10 * dpr}px system-ui`;
    st.faces.forEach((t, i) => {
      const y = b.fy0 + i * row, ign = ignored.includes(t.id);
      ctx.fillStyle = "#15171a";
      ctx.fillRect(b.x0, y, b.x1 - b.x0, row - dpr);
      t.points.forEach((q, k) => {
        if (!q) return;
        const f = t.first + k, x0 = this.fx(f - 0.5, b), w = Math.max(1, this.fx(f + 0.5, b) - x0);
        const s = q[4] >= 0 ? q[4] : 0;
        ctx.fillStyle = ign ? "rgba(120,120,120,0.45)" : `rgba(63,143,191,${0.25 + 0.75 * s})`;
        ctx.fillRect(x0, y, w, row - 4 * dpr);
        if (p.speaker && p.speaker[f] === t.id) {
          ctx.fillStyle = "#7CFC00";
          ctx.fillRect(x0, y + row - 4 * dpr, w, 3 * dpr);
        }
      });
      const x0 = this.fx(t.first - 0.5, b), x1 = this.fx(t.first + t.points.length - 0.5, b);
      if (pinned.includes(t.id) || t.id === st.selectedFace) {
        ctx.strokeStyle = t.id === st.selectedFace ? "#ffffff" : "#ffd166";
        ctx.lineWidth = 1.5 * dpr;
        ctx.strokeRect(x0, y + 0.5 * dpr, x1 - x0, row - 2 * dpr);
      }
      ctx.fillStyle = "#e6e8eb";
      const tag = `face ${t.id}${pinned.includes(t.id) ? " · pinned" : ign ? " · ignored" : ""}`;
      ctx.fillText(tag, Math.max(b.x0, x0) + 3 * dpr, y + row - 5 * dpr);
    });
  }

  // The middle of a face's lane in CSS pixels relative to the canvas (for tests and tools).
  faceLanePoint(id, frame) {
    const b = this.plotBox(), i = this.state.faces.findIndex((t) => t.id === id), dpr = window.devicePixelRatio || 1;
    if (i < 0) return null;
    return { x: this.fx(frame, b) / dpr, y: (b.fy0 + (i + 0.4) * FACE_ROW * dpr) / dpr };
  }

  drawPlayhead(ctx, b, dpr) {
    const x = this.fx(this.state.frame, b);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath(); ctx.moveTo(x, b.y0 - 2 * dpr); ctx.lineTo(x, b.sy1); ctx.stroke();
    ctx.fillStyle = "#ffffff";
    ctx.beginPath(); ctx.moveTo(x - 5 * dpr, 0); ctx.lineTo(x + 5 * dpr, 0); ctx.lineTo(x, 7 * dpr); ctx.fill();
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect(), k = this.canvas.width / r.width;
    return { x: (e.clientX - r.left) * k, y: (e.clientY - r.top) * k };
  }

  keyAt(pt, b) {
    const p = this.state.plan, dpr = window.devicePixelRatio || 1;
    if (!p) return null;
    for (const k of this.state.keyframes()) {
      const x = this.fx(k.frame, b), y = this.py(p.axis === "y" ? k.y : k.x, b);
      if (Math.abs(pt.x - x) <= KEY_HIT * dpr && Math.abs(pt.y - y) <= KEY_HIT * dpr) return k;
    }
    return null;
  }

  pointerDown(e) {
    const b = this.plotBox(), pt = this.point(e), f = this.frameAtX(pt.x, b);
    this.canvas.setPointerCapture(e.pointerId);
    const key = this.keyAt(pt, b);
    if (key) {
      this.action = { kind: "key", from: key.frame, to: key.frame };
      if (this.onSelectKey) this.onSelectKey(key.frame);
      return;
    }
    const face = this.state.plan ? this.faceAt(pt, b) : null;
    if (face) {
      this.action = { kind: "scrub" };
      if (this.onSelectFace) this.onSelectFace(face.id, f);
      if (this.onSeek) this.onSeek(f);
      return;
    }
    if (pt.y >= b.sy0 && this.state.plan) {
      const shot = this.state.plan.shots.findIndex((s) => f >= s.start && f < s.end);
      if (shot >= 0 && this.onSelectShot) this.onSelectShot(shot);
    }
    this.action = { kind: "scrub" };
    if (this.onSeek) this.onSeek(f);
  }

  pointerMove(e) {
    if (!this.action) return;
    const b = this.plotBox(), f = this.frameAtX(this.point(e).x, b);
    if (this.action.kind === "key") {
      this.action.to = f;
      this.draw();
    } else if (this.onSeek) {
      this.onSeek(f);
    }
  }

  pointerUp() {
    const a = this.action;
    this.action = null;
    if (a && a.kind === "key" && a.to !== a.from && this.onMoveKey) this.onMoveKey(a.from, a.to);
    else if (a && a.kind === "key" && this.onSeek) this.onSeek(a.from);
  }

  doubleClick(e) {
    const key = this.keyAt(this.point(e), this.plotBox());
    if (key && this.onDeleteKey) this.onDeleteKey(key.frame);
  }
}
