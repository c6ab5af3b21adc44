// The door's QR scanner (templates/events/checkin.html): frames from the phone's camera go
// through jsQR (static/vendor/jsqr-1.4.0); a code found fills the scan form's token field and
// submits it. The form also works by hand (a typed or pasted code), and the name search on the
// list is the fallback when there is no camera.
(() => {
  const box = document.querySelector("[data-scanner]");
  if (!box) return;
  const form = document.getElementById(box.dataset.scanner);
  const button = box.querySelector("[data-scanner-start]");
  const video = box.querySelector("video");
  const status = box.querySelector("[data-scanner-status]");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const MAX_SIDE = 640;
  let stream = null;
  let lastCode = "";
  let lastAt = 0;

  box.dataset.ready = typeof window.jsQR === "function" ? "yes" : "no";

  function stop() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    video.srcObject = null;
    button.textContent = box.dataset.startLabel;
    status.textContent = "";
  }

  function submit(code) {
    const now = Date.now();
    if (code === lastCode && now - lastAt < 4000) return; // the same card held in view
    lastCode = code;
    lastAt = now;
    form.elements.token.value = code;
    form.requestSubmit();
  }

  function look() {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth) {
      const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(pixels.data, canvas.width, canvas.height, {
        inversionAttempts: "dontInvert",
      });
      if (found && found.data) submit(found.data);
    }
    window.setTimeout(look, 200);
  }

  button.addEventListener("click", async () => {
    if (stream) {
      stop();
      return;
    }
    const media = navigator.mediaDevices;
    if (!media || !media.getUserMedia || typeof window.jsQR !== "function") {
      status.textContent = box.dataset.unavailable;
      return;
    }
    try {
      stream = await media.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (error) {
      status.textContent = box.dataset.denied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    button.textContent = box.dataset.stopLabel;
    status.textContent = box.dataset.scanning;
    await video.play();
    look();
  });

  form.addEventListener("htmx:afterRequest", () => {
    form.elements.token.value = "";
  });
  window.addEventListener("pagehide", stop);
})();
