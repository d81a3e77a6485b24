// Lyceum's pages work without this script; it adds what a page is better with: confirmation
// before destructive forms, the video player (HLS through hls.js where the browser has no
// native HLS, resume, progress reports), drag-and-drop ordering in the studio, and upload
// progress. No inline script anywhere: behaviour hangs off data- attributes.
"use strict";

(function () {
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  const post = (url, fields) => {
    const body = new URLSearchParams(fields);
    body.set("csrf", csrf());
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
  };

  // <form data-confirm="Refund this order?">
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement && form.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // <video data-hls="…" data-src="…" data-progress="…" data-resume="…">
  const player = (video) => {
    const hls = video.dataset.hls;
    const src = video.dataset.src;
    if (hls && window.Hls && window.Hls.isSupported()) {
      const h = new window.Hls({ enableWorker: false });
      h.loadSource(hls);
      h.attachMedia(video);
    } else if (hls && video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = hls;
    } else if (src) {
      video.src = src;
    }
    const resume = Number(video.dataset.resume || 0);
    if (resume > 0) {
      video.addEventListener("loadedmetadata", () => {
        if (resume < video.duration - 2) video.currentTime = resume;
      }, { once: true });
    }
    const url = video.dataset.progress;
    if (!url) return;
    // Seconds actually played, counted from time updates while playing (seeking adds none).
    let watched = Number(video.dataset.watched || 0);
    let last = null;
    let sent = 0;
    video.addEventListener("timeupdate", () => {
      const t = video.currentTime;
      if (last !== null && !video.paused && t > last && t - last < 2) watched += t - last;
      last = t;
    });
    video.addEventListener("seeking", () => { last = null; });
    const report = () => {
      const now = Date.now();
      if (now - sent < 1000) return;
      sent = now;
      post(url, {
        position_seconds: Math.floor(video.currentTime),
        watched_seconds: Math.floor(watched),
        sent_at: new Date().toISOString(),
      }).then((r) => r.ok ? r.json() : null).then((state) => {
        if (state && state.completed) {
          const mark = document.querySelector('[data-lesson-mark="' + video.dataset.lesson + '"]');
          if (mark) { mark.textContent = "✓"; mark.classList.add("done"); }
        }
      }).catch(() => {});
    };
    setInterval(() => { if (!video.paused) report(); }, 15000);
    video.addEventListener("pause", report);
    video.addEventListener("ended", report);
    window.addEventListener("pagehide", report);
  };
  document.querySelectorAll("video[data-hls], video[data-src]").forEach(player);

  // <ol class="sortable" data-reorder="url"> with <li draggable="true" data-id="…">
  document.querySelectorAll("ol.sortable[data-reorder]").forEach((list) => {
    let dragged = null;
    list.addEventListener("dragstart", (e) => {
      // Only this list's own items: a nested list (a section's lessons) orders its own.
      const item = e.target.closest("li[data-id]");
      dragged = item && item.parentElement === list ? item : null;
      if (dragged) dragged.classList.add("dragging");
    });
    list.addEventListener("dragover", (e) => {
      if (!dragged) return;
      e.preventDefault();
      const over = e.target.closest("li[data-id]");
      if (!over || over === dragged || over.parentElement !== list) return;
      const box = over.getBoundingClientRect();
      const after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("dragend", () => {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      const ids = [...list.querySelectorAll(":scope > li[data-id]")].map((li) => li.dataset.id);
      const status = list.parentElement.querySelector("[data-reorder-status]");
      post(list.dataset.reorder, { order: ids.join(",") }).then((r) => {
        if (status) status.textContent = r.ok ? "Order saved." : "The order could not be saved; reload the page.";
      });
    });
  });

  // Pages that wait for something (a payment, a transcode) reload themselves.
  const wait = document.querySelector("[data-reload-after]");
  if (wait) setTimeout(() => window.location.reload(), Number(wait.dataset.reloadAfter) * 1000);
})();
