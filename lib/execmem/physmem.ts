// Physical pages and the linear (direct) map.
//
// Page allocator (an assumption, not mm/page_alloc.c): order-9 blocks come from wholly free
// 2 MiB blocks; order-0 pages are reused LIFO, else carved in order from a 2 MiB block taken for
// them. Freed order-0 pages are not coalesced back into blocks.
//
// Direct map: per-page protection of the linear alias and its page-table granularity. A change of
// protection on part of a large page splits it (arch/x86/mm/pat/set_memory.c
// should_split_large_page()/split_large_page(); riscv split_linear_mapping()); a change covering a
// whole large page keeps it. arm64 with rodata=full maps the linear map with pages from boot
// (arch/arm64/mm/mmu.c), so nothing is split there. Splits are never collapsed (assumption).
import type { ExecmemEffect } from "./effects";
import { PAGE_SIZE, PMD_SIZE, PUD_SIZE, type Pgprot } from "../arch/execmem";
import { ExecmemError } from "./types";

const PAGES_PER_PMD = PMD_SIZE / PAGE_SIZE;
const PMDS_PER_PUD = PUD_SIZE / PMD_SIZE;

export type DirectProt = Pgprot | "invalid";

export interface DirectMapStats {
  /** 1 GiB leaf entries remaining / split so far (1G -> 2M). */
  pud1G: number;
  split1G: number;
  /** 2 MiB leaves split so far (2M -> 4K). */
  split2M: number;
  /** Pages of the linear map whose protection is not the default PAGE_KERNEL. */
  pagesNonDefault: number;
}

/**
 * Physical memory of `totalBytes` bytes: order-9 (2 MiB) blocks and order-0 (4 KiB) pages, under
 * the allocator assumption described at the top of this file.
 */
export class PhysMem {
  readonly totalBytes: number;
  private nextBlock = 0; // bump pointer over 2 MiB blocks
  private freeBlocks: number[] = [];
  private free4k: number[] = [];
  private carveBlock = -1;
  private carveNext = 0;

  constructor(totalBytes: number) {
    this.totalBytes = totalBytes;
  }

  private blocksLeft(): number {
    return this.totalBytes / PMD_SIZE - this.nextBlock + this.freeBlocks.length;
  }

  /** Whether n order-0 pages and b order-9 blocks can be had. Pure. */
  canAlloc(n: number, b: number): boolean {
    const carveLeft = this.carveBlock >= 0 ? PAGES_PER_PMD - this.carveNext : 0;
    const loosePages = this.free4k.length + carveLeft;
    const blocksFor4k = Math.max(0, Math.ceil((n - loosePages) / PAGES_PER_PMD));
    return this.blocksLeft() >= b + blocksFor4k;
  }

  private takeBlock(): number {
    if (this.freeBlocks.length) return this.freeBlocks.pop()!;
    if (this.nextBlock >= this.totalBytes / PMD_SIZE)
      throw new ExecmemError("alloc_pages", "order", "out of memory");
    return this.nextBlock++ * PMD_SIZE;
  }

  allocPage(): number {
    if (this.free4k.length) return this.free4k.pop()!;
    if (this.carveBlock < 0 || this.carveNext >= PAGES_PER_PMD) {
      this.carveBlock = this.takeBlock();
      this.carveNext = 0;
    }
    return this.carveBlock + this.carveNext++ * PAGE_SIZE;
  }

  allocBlock(): number {
    return this.takeBlock();
  }

  freePage(pa: number): void {
    this.free4k.push(pa);
  }

  freeBlock(pa: number): void {
    this.freeBlocks.push(pa);
  }

  snapshot(): unknown {
    return {
      nextBlock: this.nextBlock,
      freeBlocks: [...this.freeBlocks],
      free4k: [...this.free4k],
      carveBlock: this.carveBlock,
      carveNext: this.carveNext,
    };
  }
}

/** Linear-map protections as codes; 0 is the default PAGE_KERNEL. */
const DPROTS: readonly DirectProt[] = [
  "PAGE_KERNEL",
  "invalid",
  "PAGE_KERNEL_RO",
  "PAGE_KERNEL_ROX",
  "PAGE_KERNEL_EXEC",
  "PAGE_NONE",
];
const PAGES_PER_PUD = PUD_SIZE / PAGE_SIZE;
const DCODE = Object.fromEntries(DPROTS.map((p, i) => [p, i])) as Record<DirectProt, number>;

/**
 * The linear (direct) map: the protection of every page's alias and the page-table granularity
 * (1 GiB, 2 MiB or 4 KiB), counting the large pages split by set_memory_*() changes.
 */
export class DirectMap {
  readonly initial: "1G" | "2M" | "4K";
  readonly totalBytes: number;
  /** Per 1 GiB region touched so far: protection code per page (0 = PAGE_KERNEL). */
  private prot = new Map<number, Uint8Array>();
  /** Pages not PAGE_KERNEL, per 2 MiB block and in all. */
  private nonDefault: Uint16Array;
  private nonDefaultTotal = 0;
  private split1G: Uint8Array; // per 1 GiB region
  private split2M: Uint8Array; // per 2 MiB block
  nSplit1G = 0;
  nSplit2M = 0;

  constructor(initial: "1G" | "2M" | "4K", totalBytes: number) {
    this.initial = initial;
    this.totalBytes = totalBytes;
    const blocks = Math.ceil(totalBytes / PMD_SIZE);
    this.nonDefault = new Uint16Array(blocks);
    this.split2M = new Uint8Array(blocks);
    this.split1G = new Uint8Array(Math.ceil(totalBytes / PUD_SIZE));
  }

  private lastPud = -1;
  private lastRegion: Uint8Array | null = null;

  private region(pud: number): Uint8Array {
    if (pud === this.lastPud) return this.lastRegion!;
    let r = this.prot.get(pud);
    if (!r) {
      r = new Uint8Array(PAGES_PER_PUD);
      this.prot.set(pud, r);
    }
    this.lastPud = pud;
    this.lastRegion = r;
    return r;
  }

  protOf(pa: number): DirectProt {
    const pfn = pa / PAGE_SIZE;
    const r = this.prot.get(Math.floor(pfn / PAGES_PER_PUD));
    return DPROTS[r ? r[pfn % PAGES_PER_PUD] : 0];
  }

  /** Leaf size mapping pa in the linear map now. */
  leafSize(pa: number): number {
    if (this.initial === "4K") return PAGE_SIZE;
    const pmd = Math.floor(pa / PMD_SIZE);
    if (this.split2M[pmd]) return PAGE_SIZE;
    if (this.initial === "2M" || this.split1G[Math.floor(pa / PUD_SIZE)]) return PMD_SIZE;
    return PUD_SIZE;
  }

  /**
   * Set the linear-map protection of [pa, pa+size); only pages whose protection changes count.
   * Emits the splits, then one direct_map_change for the whole request if anything changed.
   */
  change(pa: number, size: number, to: DirectProt, out: ExecmemEffect[] | null): void {
    const code = DCODE[to];
    const first = pa / PAGE_SIZE;
    const end = first + size / PAGE_SIZE;
    let changed = false;
    // the changing pages, grouped by 2 MiB block
    for (let p = first; p < end;) {
      const blk = Math.floor(p / PAGES_PER_PMD);
      const blkEnd = Math.min(end, (blk + 1) * PAGES_PER_PMD);
      const r = this.region(Math.floor(p / PAGES_PER_PUD));
      const off = p - (p % PAGES_PER_PUD);
      let blkChanged = 0;
      let nd = 0;
      for (; p < blkEnd; p++) {
        const cur = r[p - off];
        if (cur !== code) {
          blkChanged++;
          r[p - off] = code;
          nd += code === 0 ? -1 : cur === 0 ? 1 : 0;
        }
      }
      if (blkChanged) {
        changed = true;
        this.nonDefault[blk] += nd;
        this.nonDefaultTotal += nd;
        this.splitFor(blk, blkChanged, pa, size, out);
      }
    }
    if (changed && out) out.push({ kind: "direct_map_change", pa, size, prot: to });
  }

  private splitFor(
    blk: number,
    changedInBlock: number,
    pa: number,
    size: number,
    out: ExecmemEffect[] | null,
  ): void {
    if (this.initial === "4K") return;
    const blkStart = blk * PMD_SIZE;
    const coversBlock =
      pa <= blkStart && pa + size >= blkStart + PMD_SIZE && changedInBlock === PAGES_PER_PMD;
    const pud = Math.floor(blk / PMDS_PER_PUD);
    if (this.initial === "1G" && !this.split1G[pud]) {
      this.split1G[pud] = 1;
      this.nSplit1G++;
      if (out) out.push({ kind: "direct_map_split", pa: pud * PUD_SIZE, from: "1G", to: "2M" });
    }
    if (!coversBlock && !this.split2M[blk]) {
      this.split2M[blk] = 1;
      this.nSplit2M++;
      if (out) out.push({ kind: "direct_map_split", pa: blkStart, from: "2M", to: "4K" });
    }
  }

  stats(): DirectMapStats {
    const puds = Math.ceil(this.totalBytes / PUD_SIZE);
    return {
      pud1G: this.initial === "1G" ? puds - this.nSplit1G : 0,
      split1G: this.nSplit1G,
      split2M: this.nSplit2M,
      pagesNonDefault: this.nonDefaultTotal,
    };
  }

  snapshot(): unknown {
    const prot: [number, DirectProt][] = [];
    for (let blk = 0; blk < this.nonDefault.length; blk++) {
      if (!this.nonDefault[blk]) continue;
      const p0 = blk * PAGES_PER_PMD;
      const r = this.prot.get(Math.floor(p0 / PAGES_PER_PUD))!;
      const off = p0 - (p0 % PAGES_PER_PUD);
      for (let p = p0; p < p0 + PAGES_PER_PMD; p++)
        if (r[p - off]) prot.push([p, DPROTS[r[p - off]]]);
    }
    const on = (a: Uint8Array): number[] => {
      const out: number[] = [];
      for (let i = 0; i < a.length; i++) if (a[i]) out.push(i);
      return out;
    };
    return {
      prot,
      split1G: on(this.split1G),
      split2M: on(this.split2M),
      nSplit1G: this.nSplit1G,
      nSplit2M: this.nSplit2M,
    };
  }
}
