// Export buttons: the API's export routes need the bearer token, which a plain <a href> cannot
// send, so the file is fetched (Api.download) and saved through a Blob URL on a temporary link
// with `download`. No inline script, no new window: the strict CSP allows it as is.
import { ApiError } from "./api.js";
import { h, setText } from "./dom.js";

/** Save a Blob under a file name, as if a link to it had been followed. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  // the download has its own reference; give the browser a moment before releasing ours
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * A button that downloads `path?params`; `status` (a live region) says what happened.
 * `params` may be a function, read at each click (the findings explorer's current filter).
 * @param {{api: object, label: string, path: string, params?: object|function, status: HTMLElement, id?: string}} o
 */
export function exportButton({ api, label, path, params, status, id, describe = label }) {
  const paramsNow = () => (typeof params === "function" ? params() : params);
  const button = h("button", { type: "button", class: "button-quiet", id, dataset: { export: paramsNow()?.format || "" } }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    setText(status, `Preparing ${describe}…`);
    try {
      const { blob, filename } = await api.download(path, paramsNow());
      saveBlob(blob, filename);
      setText(status, `Downloaded ${filename}.`);
    } catch (err) {
      setText(status, `Could not export ${describe}: ${err instanceof ApiError || err instanceof Error ? err.message : String(err)}`);
    }
    button.disabled = false;
  });
  return button;
}
