import { describe, expect, it } from "vitest"
import { isAllowedAddress, webhookUrlRefusal } from "../src/WebhookTargets.ts"

const off = { allowPrivate: false }
const on = { allowPrivate: true }

/** URL, and what the refusal says the host is. Private ones are allowed with private targets on. */
const privateTargets: Array<[string, string]> = [
  ["http://127.0.0.1/", "127.0.0.1 is a loopback address"],
  ["http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"],
  ["http://127.1/", "127.0.0.1 is a loopback address"],
  ["http://2130706433/", "127.0.0.1 is a loopback address"],
  ["http://0x7f.1/", "127.0.0.1 is a loopback address"],
  ["http://0x7f000001/", "127.0.0.1 is a loopback address"],
  ["http://0177.0.0.1/", "127.0.0.1 is a loopback address"],
  ["http://017700000001/", "127.0.0.1 is a loopback address"],
  ["http://127.000.000.001/", "127.0.0.1 is a loopback address"],
  ["http://127.0.0.1./", "127.0.0.1 is a loopback address"],
  ["http://%31%32%37.0.0.1/", "127.0.0.1 is a loopback address"],
  ["http://１２７.０.０.１/", "127.0.0.1 is a loopback address"],
  ["http://127.255.255.254/", "127.255.255.254 is a loopback address"],
  ["http://[::1]/", "::1 is a loopback address"],
  ["http://[0:0:0:0:0:0:0:1]:8080/", "::1 is a loopback address"],
  ["http://10.0.0.1/", "10.0.0.1 is a private address"],
  ["http://10.1/", "10.0.0.1 is a private address"],
  ["http://167772161/", "10.0.0.1 is a private address"],
  ["http://172.16.0.1/", "172.16.0.1 is a private address"],
  ["http://172.31.255.255/", "172.31.255.255 is a private address"],
  ["http://192.168.1.1/", "192.168.1.1 is a private address"],
  ["http://0xc0.0xa8.1.1/", "192.168.1.1 is a private address"],
  ["http://169.254.1.1/", "169.254.1.1 is a link-local address"],
  ["http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"],
  ["http://100.127.255.254/", "100.127.255.254 is a carrier-grade NAT address"],
  ["http://[fe80::1]/", "fe80::1 is a link-local address"],
  ["http://[fd00::1]/", "fd00::1 is a unique-local address"],
  ["http://[fc00::1]/", "fc00::1 is a unique-local address"],
  ["http://[fec0::1]/", "fec0::1 is a site-local address"],
  ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 is a loopback address (127.0.0.1) inside"],
  ["http://[0:0:0:0:0:ffff:7f00:1]/", "::ffff:7f00:1 is a loopback address (127.0.0.1) inside"],
  ["http://[::ffff:10.0.0.1]/", "::ffff:a00:1 is a private address (10.0.0.1) inside"],
  ["http://[::ffff:0:127.0.0.1]/", "::ffff:0:7f00:1 is a loopback address (127.0.0.1) inside"],
  ["http://[64:ff9b::127.0.0.1]/", "64:ff9b::7f00:1 is a loopback address (127.0.0.1) inside"],
  ["http://[64:ff9b::a00:1]/", "64:ff9b::a00:1 is a private address (10.0.0.1) inside"],
  ["http://[64:ff9b:1::808:808]/", "64:ff9b:1::808:808 is a local-use NAT64 address"],
  ["http://[2002:7f00:1::]/", "2002:7f00:1:: is a loopback address (127.0.0.1) inside"],
  ["http://[2002:c0a8:101::1]/", "2002:c0a8:101::1 is a private address (192.168.1.1) inside"],
  ["http://localhost/", "localhost is a local or internal name"],
  ["http://LOCALHOST./", "localhost is a local or internal name"],
  ["http://api.localhost/", "api.localhost is a local or internal name"],
  ["http://printer.local/", "printer.local is a local or internal name"],
  ["http://db.internal/", "db.internal is a local or internal name"],
  ["http://nas.home.arpa/", "nas.home.arpa is a local or internal name"],
  ["http://host.localdomain/", "host.localdomain is a local or internal name"],
  ["http://redis:6379/", "redis is a single-label name"],
]

/** Refused whatever the setting says. */
const forbiddenTargets: Array<[string, string]> = [
  ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"],
  ["http://2852039166/", "169.254.169.254 is a cloud metadata address"],
  ["http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254 is a cloud metadata address"],
  ["http://0251.0376.0251.0376/", "169.254.169.254 is a cloud metadata address"],
  ["http://169.254.170.2/v2/credentials", "169.254.170.2 is a cloud metadata address"],
  ["http://100.100.100.200/", "100.100.100.200 is a cloud metadata address"],
  ["http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"],
  ["http://[::ffff:169.254.169.254]/", "is a cloud metadata address (169.254.169.254) inside"],
  ["http://[64:ff9b::a9fe:a9fe]/", "is a cloud metadata address (169.254.169.254) inside"],
  ["http://[2002:a9fe:a9fe::]/", "is a cloud metadata address (169.254.169.254) inside"],
  ["http://metadata.google.internal/", "metadata.google.internal is a cloud metadata service"],
  ["http://metadata.google.internal./", "metadata.google.internal is a cloud metadata service"],
  ["http://metadata/", "metadata is a cloud metadata service"],
  ["http://metadata.goog/", "metadata.goog is a cloud metadata service"],
  ["http://instance-data/", "instance-data is a cloud metadata service"],
  ["http://0.0.0.0/", "0.0.0.0 is an unspecified address"],
  ["http://0/", "0.0.0.0 is an unspecified address"],
  ["http://0.1.2.3/", "0.1.2.3 is an unspecified address"],
  ["http://[::]/", ":: is an unspecified address"],
  ["http://255.255.255.255/", "255.255.255.255 is the broadcast address"],
  ["http://224.0.0.1/", "224.0.0.1 is a multicast address"],
  ["http://239.255.255.250/", "239.255.255.250 is a multicast address"],
  ["http://[ff02::1]/", "ff02::1 is a multicast address"],
  ["http://192.0.2.1/", "192.0.2.1 is a reserved or documentation address"],
  ["http://198.51.100.1/", "198.51.100.1 is a reserved or documentation address"],
  ["http://203.0.113.1/", "203.0.113.1 is a reserved or documentation address"],
  ["http://198.18.0.1/", "198.18.0.1 is a reserved or documentation address"],
  ["http://192.0.0.8/", "192.0.0.8 is a reserved or documentation address"],
  ["http://240.0.0.1/", "240.0.0.1 is a reserved or documentation address"],
  ["http://[2001:db8::1]/", "2001:db8::1 is a reserved or documentation address"],
  ["http://[2001:2::1]/", "2001:2::1 is a benchmarking address"],
  ["http://[2001::1]/", "2001::1 is a Teredo address"],
  ["http://[::127.0.0.1]/", "::7f00:1 is an IPv4-compatible address (127.0.0.1)"],
  ["http://[::8.8.8.8]/", "::808:808 is an IPv4-compatible address (8.8.8.8)"],
]

const publicTargets = [
  "https://example.com/hooks",
  "https://hooks.example.org:8443/in?x=1",
  "http://8.8.8.8/",
  "http://8.8.8.8:6379/",
  "http://134744072/",
  "http://172.32.0.1/",
  "http://100.128.0.1/",
  "http://[2606:4700:4700::1111]/",
  "http://[::ffff:8.8.8.8]/",
  "http://[64:ff9b::808:808]/",
  "http://[2002:808:808::1]/",
  "http://localhost.example.com/",
]

describe("webhookUrlRefusal", () => {
  it.each(privateTargets)("refuses %s by default: %s", (url, reason) => {
    expect(webhookUrlRefusal(url, off)).toContain(reason)
  })

  it.each(privateTargets)("allows %s with private targets on", (url) => {
    expect(webhookUrlRefusal(url, on)).toBeUndefined()
  })

  it.each(forbiddenTargets)("refuses %s even with private targets on: %s", (url, reason) => {
    expect(webhookUrlRefusal(url, off)).toContain(reason)
    expect(webhookUrlRefusal(url, on)).toContain(reason)
  })

  it.each(publicTargets)("allows the public %s", (url) => {
    expect(webhookUrlRefusal(url, off)).toBeUndefined()
  })

  it("says why in a sentence that names the host", () => {
    expect(webhookUrlRefusal("http://0x7f.1:6379/", off)).toBe(
      "127.0.0.1 is a loopback address; webhooks must target a public address",
    )
  })
})

describe("isAllowedAddress", () => {
  it("judges what a name resolved to as it judges the same address in a URL", () => {
    for (const address of ["127.0.0.1", "10.0.0.1", "::1", "fd00::1", "::ffff:127.0.0.1"]) {
      expect(isAllowedAddress(address, off)).toBe(false)
      expect(isAllowedAddress(address, on)).toBe(true)
    }
    for (const address of ["169.254.169.254", "fd00:ec2::254", "0.0.0.0", "::", "224.0.0.1"]) {
      expect(isAllowedAddress(address, off)).toBe(false)
      expect(isAllowedAddress(address, on)).toBe(false)
    }
    for (const address of ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isAllowedAddress(address, off)).toBe(true)
    }
  })

  it("refuses a link-local address with its zone as the resolver writes it", () => {
    expect(isAllowedAddress("fe80::1%eth0", off)).toBe(false)
  })

  it("refuses anything that is not an IP address", () => {
    for (const text of ["", "localhost", "0x7f.1", "2130706433", "127.1"]) {
      expect(isAllowedAddress(text, on)).toBe(false)
    }
  })
})
