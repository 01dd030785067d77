// The citizen asks for 帮办 or 代办 from their phone (/help/<hall>); on success the page moves to the
// follow page /h/<token>, which shows the request live.
import { api } from "./api.js";
import { esc } from "./live.js";

const $ = (id) => document.getElementById(id);
const hall = JSON.parse($("hall-data").textContent).code;
const client = api();

async function loadBundles() {
  try {
    const data = await client.get(`/halls/${encodeURIComponent(hall)}/bundles`);
    $("bundle").insertAdjacentHTML("beforeend", data.bundles
      .map((b) => `<option value="${esc(b.code)}">${esc(b.name)}</option>`).join(""));
  } catch {
    // the bundle is optional: staff find it out on the spot
  }
}

$("chips").addEventListener("click", (ev) => {
  const chip = ev.target.closest("[data-place]");
  if (!chip) return;
  $("location").value = chip.dataset.place + " ";
  $("location").focus();
});

$("ask").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const value = (name) => (form.get(name) || "").toString().trim();
  const body = {
    kind: value("kind"), location: value("location"), phone: value("phone"),
    bundle: value("bundle") || null, name: value("name") || null, reason: value("reason") || "other",
    note: value("note") || null,
  };
  if (!body.location) { $("error").textContent = "请填写您所在的位置"; $("location").focus(); return; }
  if (!/^1[3-9][0-9]{9}$/.test(body.phone)) { $("error").textContent = "请填写11位手机号码"; $("phone").focus(); return; }
  $("error").textContent = "";
  $("submit").disabled = true;
  try {
    const filed = await client.post(`/halls/${encodeURIComponent(hall)}/assist-requests`, body);
    window.location.href = filed.follow_path;
  } catch (e) {
    $("error").textContent = e.message || "提交失败，请稍后再试或到综合服务窗口求助";
    $("submit").disabled = false;
  }
});

loadBundles();
