import { existsSync } from "node:fs"
import { chromium } from "playwright-core"

/** Debian's Chromium, which `.ci/run` installs; browser tests say so and skip where it is missing. */
export const chromiumPath = "/usr/bin/chromium"
export const hasChromium = existsSync(chromiumPath)

/**
 * Headless Chromium as these machines allow it: as root, without a sandbox, and without the
 * background calls to Google's hosts that a closed network refuses.
 */
export const launchChromium = () =>
  chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  })
