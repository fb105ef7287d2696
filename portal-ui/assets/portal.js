// The portal's only script. Everything works without it; it adds copy buttons and confirmations.

document.documentElement.classList.add("js");

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!target) return;
  const input = document.getElementById(target.getAttribute("data-copy") || "");
  if (!input || !("value" in input)) return;
  const done = () => {
    const label = target.textContent;
    target.textContent = "Copied";
    target.setAttribute("aria-live", "polite");
    setTimeout(() => {
      target.textContent = label;
    }, 1600);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => {
      input.select();
    });
  } else {
    input.select();
    try {
      document.execCommand("copy");
      done();
    } catch {
      // The text stays selected for copying by hand.
    }
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
