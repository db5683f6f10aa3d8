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
import { ExecmemError, PAGE_SIZE, PMD_SIZE, PUD_SIZE, type Pgprot } from "./types";

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

export class DirectMap {
  readonly initial: "1G" | "2M" | "4K";
  readonly totalBytes: number;
  private prot = new Map<number, DirectProt>(); // pfn -> non-default protection
  private split1G = new Set<number>(); // 1 GiB region index
  private split2M = new Set<number>(); // 2 MiB block index
  nSplit1G = 0;
  nSplit2M = 0;

  constructor(initial: "1G" | "2M" | "4K", totalBytes: number) {
    this.initial = initial;
    this.totalBytes = totalBytes;
  }

  protOf(pa: number): DirectProt {
    return this.prot.get(pa / PAGE_SIZE) ?? "PAGE_KERNEL";
  }

  /** Leaf size mapping pa in the linear map now. */
  leafSize(pa: number): number {
    if (this.initial === "4K") return PAGE_SIZE;
    const pmd = Math.floor(pa / PMD_SIZE);
    if (this.split2M.has(pmd)) return PAGE_SIZE;
    if (this.initial === "2M" || this.split1G.has(Math.floor(pa / PUD_SIZE))) return PMD_SIZE;
    return PUD_SIZE;
  }

  /**
   * Set the linear-map protection of [pa, pa+size); only pages whose protection changes count.
   * Emits the splits, then one direct_map_change for the whole request if anything changed.
   */
  change(pa: number, size: number, to: DirectProt, out: ExecmemEffect[] | null): void {
    const first = pa / PAGE_SIZE;
    const n = size / PAGE_SIZE;
    let changed = false;
    // group the changing pages by 2 MiB block
    let blk = -1;
    let blkChanged = 0;
    const flush = (): void => {
      if (blk < 0 || blkChanged === 0) return;
      this.splitFor(blk, blkChanged, pa, size, out);
    };
    for (let p = first; p < first + n; p++) {
      const b = Math.floor(p / PAGES_PER_PMD);
      if (b !== blk) {
        flush();
        blk = b;
        blkChanged = 0;
      }
      const cur = this.prot.get(p) ?? "PAGE_KERNEL";
      if (cur !== to) {
        blkChanged++;
        changed = true;
        if (to === "PAGE_KERNEL") this.prot.delete(p);
        else this.prot.set(p, to);
      }
    }
    flush();
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
    if (this.initial === "1G" && !this.split1G.has(pud)) {
      this.split1G.add(pud);
      this.nSplit1G++;
      if (out) out.push({ kind: "direct_map_split", pa: pud * PUD_SIZE, from: "1G", to: "2M" });
    }
    if (!coversBlock && !this.split2M.has(blk)) {
      this.split2M.add(blk);
      this.nSplit2M++;
      if (out) out.push({ kind: "direct_map_split", pa: blkStart, from: "2M", to: "4K" });
    }
  }

  stats(): DirectMapStats {
    const puds = Math.ceil(this.totalBytes / PUD_SIZE);
    return {
      pud1G: this.initial === "1G" ? puds - this.split1G.size : 0,
      split1G: this.nSplit1G,
      split2M: this.nSplit2M,
      pagesNonDefault: this.prot.size,
    };
  }

  snapshot(): unknown {
    return {
      prot: [...this.prot.entries()].sort((a, b) => a[0] - b[0]),
      split1G: [...this.split1G].sort((a, b) => a - b),
      split2M: [...this.split2M].sort((a, b) => a - b),
      nSplit1G: this.nSplit1G,
      nSplit2M: this.nSplit2M,
    };
  }
}
