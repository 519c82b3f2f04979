// Redaction areas drawn with the mouse on the original pages. Written for this project; no
// framework. Each area is kept as a line PAGE:X0,Y0,X1,Y1 in the form's textarea, in the
// page's own units (PDF points, or image pixels), which the server checks and redacts.
"use strict";

function redactionAreas() {
  const box = document.getElementById("regions");
  if (!box) { return; }
  const canvases = Array.from(document.querySelectorAll(".redaction-canvas"));

  function lines() {
    return box.value.split(/\s+/).filter(function (l) { return l.length > 0; });
  }

  function unitsPerPixel(canvas) {
    const img = canvas.querySelector("img");
    return parseFloat(canvas.dataset.width) / (img.clientWidth || 1);
  }

  function draw() {
    canvases.forEach(function (canvas) {
      canvas.querySelectorAll(".redaction-area").forEach(function (el) { el.remove(); });
      const scale = unitsPerPixel(canvas);
      lines().forEach(function (line, index) {
        const m = line.match(/^(\d+):([\d.]+),([\d.]+),([\d.]+),([\d.]+)$/);
        if (!m || m[1] !== canvas.dataset.page) { return; }
        const el = document.createElement("div");
        el.className = "redaction-area";
        el.style.left = (parseFloat(m[2]) / scale) + "px";
        el.style.top = (parseFloat(m[3]) / scale) + "px";
        el.style.width = ((parseFloat(m[4]) - parseFloat(m[2])) / scale) + "px";
        el.style.height = ((parseFloat(m[5]) - parseFloat(m[3])) / scale) + "px";
        el.title = line;
        el.addEventListener("click", function (ev) {
          ev.stopPropagation();
          const kept = lines();
          kept.splice(index, 1);
          box.value = kept.join("\n");
          draw();
        });
        canvas.appendChild(el);
      });
    });
  }

  canvases.forEach(function (canvas) {
    let start = null;
    let band = null;
    function at(ev) {
      const r = canvas.getBoundingClientRect();
      return [Math.max(0, Math.min(ev.clientX - r.left, r.width)),
              Math.max(0, Math.min(ev.clientY - r.top, r.height))];
    }
    canvas.addEventListener("mousedown", function (ev) {
      if (ev.button !== 0 || ev.target.classList.contains("redaction-area")) { return; }
      ev.preventDefault();
      start = at(ev);
      band = document.createElement("div");
      band.className = "redaction-area drawing";
      canvas.appendChild(band);
    });
    canvas.addEventListener("mousemove", function (ev) {
      if (!start) { return; }
      const p = at(ev);
      band.style.left = Math.min(start[0], p[0]) + "px";
      band.style.top = Math.min(start[1], p[1]) + "px";
      band.style.width = Math.abs(p[0] - start[0]) + "px";
      band.style.height = Math.abs(p[1] - start[1]) + "px";
    });
    window.addEventListener("mouseup", function (ev) {
      if (!start) { return; }
      const p = at(ev);
      const s = unitsPerPixel(canvas);
      const x0 = Math.min(start[0], p[0]) * s, x1 = Math.max(start[0], p[0]) * s;
      const y0 = Math.min(start[1], p[1]) * s, y1 = Math.max(start[1], p[1]) * s;
      start = null;
      band.remove();
      if (x1 - x0 < 2 || y1 - y0 < 2) { return; }
      const kept = lines();
      kept.push(canvas.dataset.page + ":" + [x0, y0, x1, y1].map(function (v) {
        return v.toFixed(1);
      }).join(","));
      box.value = kept.join("\n");
      draw();
    });
    canvas.querySelector("img").addEventListener("load", draw);
  });
  box.addEventListener("input", draw);
  window.addEventListener("resize", draw);
  draw();
}

document.addEventListener("DOMContentLoaded", redactionAreas);
