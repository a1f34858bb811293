// Mute / unmute one failure from its details (operators only). A mute accepts a risk with a
// justification; the API applies mutes when a scan is saved, so the page says the change shows
// from the next scan rather than pretending the stored finding changed.
import { h, setText } from "./dom.js";

let formSeq = 0;

/**
 * The controls for one finding: null for readers and for results that are not failures.
 * @param {{api: object, session: object, finding: object}} o
 */
export function muteControls({ api, session, finding }) {
  if (!session.isOperator || finding.status && finding.status !== "FAIL") return null;
  const status = h("p", { class: "muted mute-status", role: "status", "aria-live": "polite" });
  if (finding.muted && finding.mute_id !== null && finding.mute_id !== undefined) {
    const unmute = h("button", { type: "button", class: "button-quiet", "aria-label": `Unmute ${finding.rule_id} on ${finding.resource_name} (delete mute ${finding.mute_id})` }, "Unmute");
    unmute.addEventListener("click", async () => {
      unmute.disabled = true;
      try {
        await api.delete(`/api/mutes/${finding.mute_id}`);
        setText(status, `Mute ${finding.mute_id} deleted: the next scan reports this failure again.`);
      } catch (err) {
        setText(status, `Could not unmute: ${err.message}`);
        unmute.disabled = false;
      }
    });
    return h("div", { class: "mute-controls" }, unmute, status);
  }
  const id = `mute-justification-${++formSeq}`;
  const justification = h("textarea", { id, name: "justification", rows: "2", maxlength: "2000", required: true,
    placeholder: "why this risk is accepted" });
  const submit = h("button", { type: "submit", class: "button-primary", "aria-label": `Mute ${finding.rule_id} on ${finding.resource_name}` }, "Mute");
  const form = h("form", { class: "mute-form" },
    h("label", { for: id }, "Justification"), justification, submit, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = justification.value.trim();
    if (!text) {
      setText(status, "Say why this risk is accepted before muting it.");
      justification.focus();
      return;
    }
    submit.disabled = true;
    try {
      const mute = await api.post("/api/mutes", { rule_id: finding.rule_id, resource: finding.resource_id,
        subscription_id: finding.subscription_id, justification: text });
      setText(status, `Muted (mute ${mute.id}): from the next scan this failure is listed as muted and left out of the score.`);
      justification.disabled = true;
    } catch (err) {
      setText(status, `Could not mute: ${err.message}`);
      submit.disabled = false;
    }
  });
  return h("div", { class: "mute-controls" }, form);
}
