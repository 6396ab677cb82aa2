import { describe, expect, it } from "vitest";
import { WRITE_BUDGET_BYTES, WriteBudget } from "./write-budget.js";

describe("WriteBudget", () => {
  it("gives one upload 1 MiB blocks, many uploads smaller ones within the budget, and recovers", () => {
    const budget = new WriteBudget();
    const first = budget.acquire();
    expect(first.size).toBe(1024 * 1024);
    const many = Array.from({ length: 299 }, () => budget.acquire());
    const last = many[many.length - 1];
    expect(last?.size).toBe(64 * 1024);
    expect(2 * 300 * (last?.size ?? 0)).toBeLessThanOrEqual(WRITE_BUDGET_BYTES);
    for (const m of many) m.release();
    first.release();
    first.release(); // twice is harmless
    const again = budget.acquire();
    expect(again.size).toBe(1024 * 1024);
  });
});
