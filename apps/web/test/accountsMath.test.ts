import { describe, expect, it } from "vitest"
import { balanceTimes, normalizeCurrency, parseMetadata } from "../src/screens/accountsMath.ts"

describe("balance history times", () => {
  it("ends each earlier day at 23:59:59.999 local time and ends with now", () => {
    const now = new Date(2026, 11, 7, 10, 30)
    const times = balanceTimes(now, 30)
    expect(times).toHaveLength(30)
    expect(times.at(-1)?.getTime()).toBe(now.getTime())
    const first = times[0]!
    expect([first.getFullYear(), first.getMonth(), first.getDate()]).toEqual([2026, 10, 8])
    expect([first.getHours(), first.getMinutes(), first.getSeconds()]).toEqual([23, 59, 59])
    expect(first.getMilliseconds()).toBe(999)
    const yesterday = times.at(-2)!
    expect(yesterday.getDate()).toBe(6)
    for (const [index, time] of times.entries()) {
      if (index > 0) expect(time.getTime()).toBeGreaterThan(times[index - 1]!.getTime())
    }
  })

  it("gives just now for one day, nothing for none", () => {
    const now = new Date()
    expect(balanceTimes(now, 1)).toEqual([now])
    expect(balanceTimes(now, 0)).toEqual([])
  })
})

describe("new account form", () => {
  it("takes a currency in upper case", () => {
    expect(normalizeCurrency(" usd ")).toBe("USD")
  })

  it("reads metadata one key=value a line", () => {
    expect(parseMetadata("")).toEqual({ metadata: undefined })
    expect(parseMetadata("\n  \n")).toEqual({ metadata: undefined })
    expect(parseMetadata("team = ops\nformula=a=b\n")).toEqual({
      metadata: { team: "ops", formula: "a=b" },
    })
  })

  it("keeps __proto__ as a key rather than a prototype", () => {
    const parsed = parseMetadata("__proto__=x")
    expect("metadata" in parsed && parsed.metadata !== undefined).toBe(true)
    if ("metadata" in parsed && parsed.metadata !== undefined) {
      expect(Object.keys(parsed.metadata)).toEqual(["__proto__"])
      expect(Object.getPrototypeOf(parsed.metadata)).toBe(Object.prototype)
    }
  })

  it("says which line is wrong", () => {
    expect(parseMetadata("ok=1\nnope")).toEqual({ error: "Line 2: write it as key=value." })
    expect(parseMetadata("=1")).toEqual({ error: "Line 1: a key has 1 to 40 characters." })
    expect(parseMetadata(`${"k".repeat(41)}=1`)).toHaveProperty("error")
    expect(parseMetadata(`k=${"v".repeat(501)}`)).toHaveProperty("error")
    expect(parseMetadata("a=1\na=2")).toEqual({ error: "Line 2: a is given twice." })
    const many = Array.from({ length: 51 }, (_, index) => `k${index}=v`).join("\n")
    expect(parseMetadata(many)).toEqual({ error: "At most 50 keys." })
  })
})
