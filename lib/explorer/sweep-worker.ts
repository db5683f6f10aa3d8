/** Worker thread of exploreMany: explores the scenarios it is sent. */
import { parentPort } from "node:worker_threads";
import { explore } from "./explore";

parentPort?.on(
  "message",
  (m: { i: number; spec: Parameters<typeof explore>[0]; opts: Parameters<typeof explore>[1] }) => {
    try {
      parentPort!.postMessage({ i: m.i, result: explore(m.spec, m.opts) });
    } catch (e) {
      parentPort!.postMessage({ i: m.i, error: (e as Error).message });
    }
  },
);
