// Charts drawn by uPlot, each with the same figures as a table (readable by
// screen readers and by tests).
import uPlot from "../vendor/uPlot.esm.js";
import { h } from "./ui.js";
import { useEffect, useRef } from "../vendor/preact-hooks.mjs";

const COLOURS = ["#1a7f37", "#cf222e", "#9a6700", "#0969da", "#8250df", "#57606a"];

// x: numbers (seconds for time axes, else indices); series: [{label, values}].
export function Chart({ title, x, series, time = true, bars = false, xLabels, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current || !x.length) return undefined;
    const width = Math.max(box.current.clientWidth || 600, 320);
    const paths = bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined;
    const options = {
      title,
      width,
      height,
      scales: { x: { time } },
      axes: [
        xLabels ? { values: (_u, ticks) => ticks.map((t) => xLabels[t] ?? "") , space: 40 } : {},
        {},
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          fill: bars ? `${COLOURS[i % COLOURS.length]}55` : undefined,
          width: 2,
          paths,
          points: { show: !bars },
        })),
      ],
    };
    const plot = new uPlot(options, [x, ...series.map((s) => s.values)], box.current);
    return () => plot.destroy();
  }, [JSON.stringify([title, x, series, xLabels])]);
  const labelOf = (value, i) => (xLabels ? xLabels[i] : time ? new Date(value * 1000).toLocaleString() : String(value));
  return h(
    "figure",
    { class: "chart", "aria-label": title },
    h("div", { ref: box, class: "chart-canvas", "data-chart": title }),
    h(
      "details",
      null,
      h("summary", null, `${title}: figures`),
      h(
        "table",
        null,
        h("caption", null, title),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, xLabels ? "node" : "time"), series.map((s) => h("th", { scope: "col", key: s.label }, s.label)))),
        h(
          "tbody",
          null,
          x.map((value, i) => h("tr", { key: i }, h("th", { scope: "row" }, labelOf(value, i)), series.map((s) => h("td", { key: s.label }, String(s.values[i] ?? "—"))))),
        ),
      ),
    ),
    !x.length && h("p", null, "No data yet."),
  );
}
