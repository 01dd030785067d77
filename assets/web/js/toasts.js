// Short messages in a console's #toasts corner: the newest few stay, errors stay longer and are
// announced as alerts (role=alert), the others politely (role=status).
export function toaster({ keep = 3, okMs = 3000, errorMs = 6000 } = {}) {
  return function toast(message, kind = "info") {
    const box = document.getElementById("toasts");
    const el = document.createElement("div");
    el.className = `toast ${kind}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = message;
    box.append(el);
    while (box.children.length > keep) box.firstChild.remove();
    setTimeout(() => { el.classList.add("leaving"); setTimeout(() => el.remove(), 250); },
      kind === "error" ? errorMs : okMs);
  };
}
