import { describe, expect, it } from "vitest"
import {
  eventTypesLabel,
  lastAttemptAt,
  webhookEventTypes,
  webhookInput,
  webhookUrlProblem,
} from "../src/screens/webhookForm.ts"

describe("webhookUrlProblem", () => {
  it("accepts http and https URLs", () => {
    expect(webhookUrlProblem("https://example.com/hooks")).toBeUndefined()
    expect(webhookUrlProblem("http://example.com:8080/x?y=1")).toBeUndefined()
  })
  it("refuses what the API refuses", () => {
    expect(webhookUrlProblem("")).toMatch(/^URL:/)
    expect(webhookUrlProblem("example.com")).toMatch(/absolute/)
    expect(webhookUrlProblem("ftp://example.com")).toMatch(/absolute/)
    expect(webhookUrlProblem("https://user:pw@example.com")).toMatch(/password/)
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(2048)}`)).toMatch(/2048/)
  })
})

describe("webhookInput", () => {
  it("trims, leaves out an empty description, orders the types as the API lists them", () => {
    expect(
      webhookInput({
        url: " https://example.com/h ",
        description: "  ",
        eventTypes: new Set(["export.failed", "account.created"]),
      }),
    ).toEqual({
      ok: true,
      input: { url: "https://example.com/h", eventTypes: ["account.created", "export.failed"] },
    })
  })
  it("sends * alone", () => {
    expect(
      webhookInput({
        url: "https://example.com/h",
        description: "All of it",
        eventTypes: new Set(["*", "transaction.posted"]),
      }),
    ).toEqual({
      ok: true,
      input: { url: "https://example.com/h", description: "All of it", eventTypes: ["*"] },
    })
  })
  it("needs an event type and a short description", () => {
    expect(
      webhookInput({ url: "https://example.com/h", description: "", eventTypes: new Set() }),
    ).toMatchObject({ ok: false, field: "eventTypes" })
    expect(
      webhookInput({
        url: "https://example.com/h",
        description: "x".repeat(1001),
        eventTypes: new Set(["*"]),
      }),
    ).toMatchObject({ ok: false, field: "description" })
    expect(
      webhookInput({ url: "nope", description: "", eventTypes: new Set(["*"]) }),
    ).toMatchObject({ ok: false, field: "url" })
  })
})

describe("event types", () => {
  it("lists each type once, with *", () => {
    expect(new Set(webhookEventTypes).size).toBe(webhookEventTypes.length)
    expect(webhookEventTypes).toContain("*")
    expect(webhookEventTypes).toHaveLength(13)
  })
  it("labels them", () => {
    expect(eventTypesLabel(["*"])).toBe("All (*)")
    expect(eventTypesLabel(["account.created", "export.failed"])).toBe(
      "account.created, export.failed",
    )
  })
})

describe("lastAttemptAt", () => {
  it("is the latest attempt's start", () => {
    expect(lastAttemptAt({ log: [] })).toBeUndefined()
    expect(
      lastAttemptAt({
        log: [
          { attempt: 2, at: "2026-01-01T00:00:15.000Z" },
          { attempt: 1, at: "2026-01-01T00:00:00.000Z" },
        ],
      }),
    ).toBe("2026-01-01T00:00:15.000Z")
  })
})
