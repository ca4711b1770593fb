// Loaded on its own, ahead of the dashboard's other modules: on a run page it
// starts the page's two reads (the run and its pinned definition) at once, so
// that they travel while the rest of the code is fetched and parsed. api.js
// takes each answer once; nothing else reads them.
const match = location.pathname.match(/^\/ui\/runs\/([^/?#]+)\/?$/);
const token = sessionStorage.getItem("flowforge.token");
if (match && token) {
  const path = `/api/v1/runs/${match[1]}`;
  const read = (url) => fetch(url, { headers: { Accept: "application/json", Authorization: `Bearer ${token}` } });
  const answers = new Map([path, `${path}/definition`].map((url) => [url, read(url)]));
  // A read that fails is reported where it is taken, not as an unhandled rejection.
  for (const answer of answers.values()) answer.catch(() => {});
  window.flowforgeEarly = { token, answers };
}
