// Upload forms (activity photos, 七有 evidence): progress bar, large phone photos scaled down
// before sending, confirmations and print buttons. Every form still works without this file.
(() => {
  const MAX_SIDE = 2560;
  const SHRINK_ABOVE = 1.5 * 1024 * 1024;

  async function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size < SHRINK_ABOVE || !window.createImageBitmap) {
      return file;
    }
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      if (!blob || blob.size >= file.size) return file;
      return new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" });
    } catch (error) {
      return file;
    }
  }

  async function formData(form) {
    const data = new FormData();
    for (const element of form.elements) {
      if (!element.name || element.disabled) continue;
      if (element.type === "file") {
        for (const file of element.files) data.append(element.name, await shrink(file), file.name);
      } else if ((element.type === "checkbox" || element.type === "radio") && !element.checked) {
        continue;
      } else if (element.tagName === "SELECT" && element.multiple) {
        for (const option of element.selectedOptions) data.append(element.name, option.value);
      } else if (element.type !== "submit" && element.type !== "button") {
        data.append(element.name, element.value);
      }
    }
    return data;
  }

  function showResponse(xhr) {
    document.open();
    document.write(xhr.responseText);
    document.close();
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.hasAttribute("data-upload-progress") || !window.FormData) return;
    event.preventDefault();
    const progress = form.querySelector(".upload-progress");
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    if (progress) { progress.hidden = false; progress.removeAttribute("value"); }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", (e) => {
      if (progress && e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener("load", () => {
      // Show the answer as it came (its flash messages say which photos were refused), at the
      // address the server redirected to.
      showResponse(xhr);
      if (xhr.status < 400 && xhr.responseURL) window.history.replaceState(null, "", xhr.responseURL);
    });
    xhr.addEventListener("error", () => {
      if (button) button.disabled = false;
      if (progress) progress.hidden = true;
      form.insertAdjacentHTML("afterbegin", `<p class="error" role="alert">${form.dataset.networkError || "Network error"}</p>`);
    });
    xhr.send(await formData(form));
  });

  // The member picker: a ticked search result moves to the picked list, so a new search keeps it.
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.matches("input[data-pick]") && box.checked) {
      const picker = box.closest("[data-member-picker]");
      const label = box.closest("label");
      const result = box.closest("li");
      box.removeAttribute("data-pick");
      label.classList.add("chip");
      picker.querySelector(".picked").appendChild(label);
      if (result) result.remove();
    } else if (box.matches(".picked input[type=checkbox]") && !box.checked) {
      box.closest("label").remove();
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
