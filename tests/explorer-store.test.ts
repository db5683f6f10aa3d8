/** The explorer's visited-state set: one index per distinct state, whatever the state size. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StateStore } from "../lib";

describe("StateStore", () => {
  it("gives each distinct state one index and returns its bytes, across growth, for any size", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }).chain((size) =>
          fc.tuple(
            fc.constant(size),
            fc.array(fc.uint8Array({ minLength: size, maxLength: size, max: 3 }), {
              maxLength: 3000,
            }),
          ),
        ),
        ([size, states]) => {
          const store = new StateStore(size, 4);
          const seen = new Map<string, number>();
          for (const s of states) {
            const k = Array.from(s).join(",");
            const r = store.add(s);
            const known = seen.get(k);
            if (known === undefined) {
              expect(r).toBe(-(seen.size + 1));
              seen.set(k, seen.size);
            } else expect(r).toBe(known);
          }
          expect(store.count).toBe(seen.size);
          for (const [k, i] of seen) {
            expect(Array.from(store.get(i)).join(",")).toBe(k);
            expect(Array.from(store.copy(i)).join(",")).toBe(k);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("tells apart states that differ only in the padding-adjacent last byte", () => {
    const store = new StateStore(5);
    expect(store.add(Uint8Array.of(1, 2, 3, 4, 0))).toBe(-1);
    expect(store.add(Uint8Array.of(1, 2, 3, 4, 1))).toBe(-2);
    expect(store.add(Uint8Array.of(1, 2, 3, 4, 0))).toBe(0);
    expect(store.get(1)).toEqual(Uint8Array.of(1, 2, 3, 4, 1));
  });

  it("reads a state over whole words in place, whatever the bytes past its end", () => {
    const store = new StateStore(5);
    const words = new Uint8Array(new ArrayBuffer(8), 0, 5);
    words.set([1, 2, 3, 4, 9]);
    new Uint8Array(words.buffer).fill(7, 5);
    expect(store.add(words)).toBe(-1);
    expect(store.add(Uint8Array.of(1, 2, 3, 4, 9))).toBe(0);
    new Uint8Array(words.buffer).fill(0, 5);
    expect(store.add(words)).toBe(0);
    words[4] = 8;
    expect(store.add(words)).toBe(-2);
    expect(store.get(0)).toEqual(Uint8Array.of(1, 2, 3, 4, 9));
    expect(Array.from(new Uint8Array(store.copy(1).buffer))).toEqual([1, 2, 3, 4, 8]);
  });
});
