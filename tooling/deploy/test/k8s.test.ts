import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ConfigError, loadConfig } from "@txn/config"
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment"
import { Deployment } from "kubernetes-models/apps/v1/Deployment"
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler"
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler"
import type { IJob } from "kubernetes-models/batch/v1/Job"
import { Job } from "kubernetes-models/batch/v1/Job"
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget"
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap"
import { ConfigMap } from "kubernetes-models/v1/ConfigMap"
import type { IContainer as Container } from "kubernetes-models/v1/Container"
import type { IPodTemplateSpec as PodTemplate } from "kubernetes-models/v1/PodTemplateSpec"
import type { ISecret } from "kubernetes-models/v1/Secret"
import { Secret } from "kubernetes-models/v1/Secret"
import type { IService } from "kubernetes-models/v1/Service"
import { Service } from "kubernetes-models/v1/Service"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { parse, parseAllDocuments } from "yaml"

type Manifest = {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string> }
}
type Document = { readonly file: string; readonly index: number; readonly manifest: Manifest }

const root = new URL("../../../", import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), "utf8")

const manifestFiles = readdirSync(new URL("deploy/k8s/", root))
  .filter((file) => /\.ya?ml$/.test(file) && file !== "kustomization.yaml")
  .sort()
const documents: ReadonlyArray<Document> = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`deploy/k8s/${file}`)).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${file}#${index}: ${document.errors[0]}`)
    return { file, index, manifest: document.toJS() as Manifest }
  }),
)
const kustomization = parse(read("deploy/k8s/kustomization.yaml")) as {
  resources: string[]
  images?: { name: string; newName?: string; newTag?: string }[]
}

/**
 * The kinds these manifests may use, at API versions that clusters still serve (policy/v1beta1
 * and autoscaling/v2beta2 are gone since 1.25 and 1.26), each with the model of
 * kubernetes-models 5.1.0 (Kubernetes 1.36's OpenAPI schema) that validates it at run time and
 * the interface its fields are type-checked against.
 */
const kinds: Record<string, { validate: (data: unknown) => void; type: string; module: string }> = {
  "v1 ConfigMap": {
    validate: (data) => new ConfigMap(data as IConfigMap).validate(),
    type: "IConfigMap",
    module: "kubernetes-models/v1/ConfigMap",
  },
  "v1 Secret": {
    validate: (data) => new Secret(data as ISecret).validate(),
    type: "ISecret",
    module: "kubernetes-models/v1/Secret",
  },
  "v1 Service": {
    validate: (data) => new Service(data as IService).validate(),
    type: "IService",
    module: "kubernetes-models/v1/Service",
  },
  "apps/v1 Deployment": {
    validate: (data) => new Deployment(data as IDeployment).validate(),
    type: "IDeployment",
    module: "kubernetes-models/apps/v1/Deployment",
  },
  "batch/v1 Job": {
    validate: (data) => new Job(data as IJob).validate(),
    type: "IJob",
    module: "kubernetes-models/batch/v1/Job",
  },
  "autoscaling/v2 HorizontalPodAutoscaler": {
    validate: (data) => new HorizontalPodAutoscaler(data as IHorizontalPodAutoscaler).validate(),
    type: "IHorizontalPodAutoscaler",
    module: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
  },
  "policy/v1 PodDisruptionBudget": {
    validate: (data) => new PodDisruptionBudget(data as IPodDisruptionBudget).validate(),
    type: "IPodDisruptionBudget",
    module: "kubernetes-models/policy/v1/PodDisruptionBudget",
  },
}
const kindOf = ({ manifest }: Document) => kinds[`${manifest.apiVersion} ${manifest.kind}`]
const where = ({ file, index }: Document) => `${file}#${index}`

/** What the JSON schema finds wrong: wrong types, missing required fields, bad enum values. */
const schemaProblems = (docs: ReadonlyArray<Document>) =>
  docs.flatMap((doc) => {
    const kind = kindOf(doc)
    if (kind === undefined) {
      return [
        `${where(doc)}: ${doc.manifest.apiVersion} ${doc.manifest.kind} is not a kind listed here`,
      ]
    }
    try {
      kind.validate(doc.manifest)
      return []
    } catch (error) {
      const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors
      if (errors === undefined) throw error
      return errors.map((e) => `${where(doc)}${e.instancePath} ${e.message}`)
    }
  })

// Kubernetes' OpenAPI schema does not forbid fields it does not define (the API server refuses
// them only when the manifest is applied), so a misspelt field passes the JSON schema. The
// models' TypeScript interfaces do: each document becomes an object literal of its kind's
// interface, and TypeScript's excess property check names every field the kind does not have.
const typeCheckFile = fileURLToPath(new URL("manifests.generated.ts", import.meta.url))
const typeCheckOptions: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [],
}
const typeCheckHost = ts.createCompilerHost(typeCheckOptions)
let typeCheckProgram: ts.Program | undefined

/** What TypeScript finds wrong, fields no kind defines above all; nothing compiles to disk. */
const typeProblems = (docs: ReadonlyArray<Document>) => {
  const typed = docs.flatMap((doc) => {
    const kind = kindOf(doc)
    return kind === undefined ? [] : [{ doc, kind }]
  })
  const imports = [
    ...new Set(typed.map(({ kind }) => `import type { ${kind.type} } from "${kind.module}"`)),
  ]
  let line = imports.length
  const starts: { line: number; doc: Document }[] = []
  const declarations = typed.map(({ doc, kind }, i) => {
    const text = `export const doc${i}: ${kind.type} = ${JSON.stringify(doc.manifest, null, 2)}`
    starts.push({ line, doc })
    line += text.split("\n").length
    return text
  })
  const source = [...imports, ...declarations].join("\n")
  const host: ts.CompilerHost = {
    ...typeCheckHost,
    fileExists: (name) => name === typeCheckFile || typeCheckHost.fileExists(name),
    readFile: (name) => (name === typeCheckFile ? source : typeCheckHost.readFile(name)),
    getSourceFile: (name, language, ...rest) =>
      name === typeCheckFile
        ? ts.createSourceFile(name, source, language)
        : typeCheckHost.getSourceFile(name, language, ...rest),
  }
  // Reusing the last program keeps the library declarations parsed once.
  typeCheckProgram = ts.createProgram([typeCheckFile], typeCheckOptions, host, typeCheckProgram)
  const file = typeCheckProgram.getSourceFile(typeCheckFile)!
  return ts.getPreEmitDiagnostics(typeCheckProgram, file).map((diagnostic) => {
    // Field names are JSON strings in the generated literal: '"name"' reads better as 'name'.
    const message = ts
      .flattenDiagnosticMessageText(diagnostic.messageText, " ")
      .replaceAll(/'"([^"]*)"'/g, "'$1'")
    if (diagnostic.file !== file || diagnostic.start === undefined) return message
    const at = file.getLineAndCharacterOfPosition(diagnostic.start).line
    const doc = starts.findLast((start) => start.line <= at)!.doc
    return `${where(doc)}: ${message}`
  })
}

const named = <T>(kind: string, name: string): T => {
  const found = documents.filter(
    ({ manifest }) => manifest.kind === kind && manifest.metadata.name === name,
  )
  if (found.length !== 1) {
    throw new Error(`Expected one ${kind} ${name} in deploy/k8s, found ${found.length}`)
  }
  return found[0]!.manifest as T
}
const api = named<IDeployment>("Deployment", "txn-api")
const worker = named<IDeployment>("Deployment", "txn-worker")
const pgbouncer = named<IDeployment>("Deployment", "txn-pgbouncer")
const migrate = named<IJob>("Job", "txn-migrate")
const apiService = named<IService>("Service", "txn-api")
const pgbouncerService = named<IService>("Service", "txn-pgbouncer")
const hpa = named<IHorizontalPodAutoscaler>("HorizontalPodAutoscaler", "txn-api")
const pdb = named<IPodDisruptionBudget>("PodDisruptionBudget", "txn-api")
const configMap = named<IConfigMap>("ConfigMap", "txn-config")
const secret = named<ISecret>("Secret", "txn-secrets")

const podTemplates: ReadonlyArray<[string, PodTemplate]> = documents.flatMap(({ manifest }) =>
  manifest.kind === "Deployment" || manifest.kind === "Job"
    ? [[manifest.metadata.name, (manifest as IDeployment | IJob).spec!.template]]
    : [],
)
const containerOf = (workload: IDeployment | IJob): Container => {
  const containers = workload.spec!.template.spec!.containers
  if (containers.length !== 1)
    throw new Error(`Expected one container in ${workload.metadata!.name}`)
  return containers[0]!
}
const apiContainer = containerOf(api)
const workerContainer = containerOf(worker)
const migrateContainer = containerOf(migrate)
const pgbouncerContainer = containerOf(pgbouncer)
/** The containers that run the app's image and so read packages/config. */
const appContainers = [apiContainer, workerContainer, migrateContainer]

/** A container port given by number or by name, as a probe or a Service's targetPort names it. */
const portNumber = (container: Container, port: number | string | undefined) =>
  typeof port === "number" ? port : container.ports?.find((p) => p.name === port)?.containerPort
const envValue = (container: Container, name: string) =>
  container.env?.find((variable) => variable.name === name)
const secretData = secret.stringData ?? {}

/** The variables a container starts with, as the kubelet puts them together. */
const environmentOf = (container: Container): Record<string, string> => {
  const fromConfigMap = (name: string | undefined) =>
    name === configMap.metadata!.name ? configMap.data : undefined
  const fromSecret = (name: string | undefined) =>
    name === secret.metadata!.name ? secretData : undefined
  const environment: Record<string, string> = {}
  for (const from of container.envFrom ?? []) {
    const source =
      from.configMapRef !== undefined
        ? fromConfigMap(from.configMapRef.name)
        : from.secretRef !== undefined
          ? fromSecret(from.secretRef.name)
          : undefined
    Object.assign(environment, source)
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    const resolved =
      value ??
      (valueFrom?.configMapKeyRef !== undefined
        ? fromConfigMap(valueFrom.configMapKeyRef.name)?.[valueFrom.configMapKeyRef.key]
        : valueFrom?.secretKeyRef !== undefined
          ? fromSecret(valueFrom.secretKeyRef.name)?.[valueFrom.secretKeyRef.key]
          : undefined)
    if (resolved !== undefined) environment[name] = resolved
  }
  return environment
}

describe("deploy/k8s", () => {
  it("every document follows Kubernetes 1.36's schema and sets only fields it defines", () => {
    expect(documents.length).toBeGreaterThanOrEqual(manifestFiles.length)
    expect(schemaProblems(documents)).toEqual([])
    expect(typeProblems(documents)).toEqual([])
  })

  it("the checks reject broken manifests where they break", () => {
    const broken = (file: string, breakIt: (manifest: Manifest) => void) =>
      documents.map((doc) => {
        if (doc.file !== file) return doc
        const manifest = structuredClone(doc.manifest)
        breakIt(manifest)
        return { ...doc, manifest }
      })
    const apiSpec = (m: Manifest) => (m as unknown as IDeployment).spec!.template.spec!

    expect(
      schemaProblems(
        broken("api-deployment.yaml", (m) => {
          apiSpec(m).containers[0]!.ports![0]!.containerPort = "3000" as unknown as number
        }),
      ),
    ).toContain(
      "api-deployment.yaml#0/spec/template/spec/containers/0/ports/0/containerPort must be integer",
    )
    expect(
      schemaProblems(
        broken("api-hpa.yaml", (m) => {
          Reflect.deleteProperty(
            (m as unknown as IHorizontalPodAutoscaler).spec!.scaleTargetRef,
            "name",
          )
        }),
      ),
    ).toContain("api-hpa.yaml#0/spec/scaleTargetRef must have required property name")
    expect(
      schemaProblems(
        broken("api-pdb.yaml", (m) => Object.assign(m, { apiVersion: "policy/v1beta1" })),
      ),
    ).toContain("api-pdb.yaml#0: policy/v1beta1 PodDisruptionBudget is not a kind listed here")

    const misspelt = broken("api-deployment.yaml", (m) => {
      const container = apiSpec(m).containers[0]! as Container & Record<string, unknown>
      container.readinesProbe = container.readinessProbe
      delete container.readinessProbe
    })
    expect(schemaProblems(misspelt)).toEqual([])
    expect(typeProblems(misspelt)).toEqual([
      "api-deployment.yaml#0: Object literal may only specify known properties, and 'readinesProbe' does not exist in type 'IContainer'.",
    ])
  })

  it("the kustomization lists every manifest once, and pins the app's image", () => {
    expect([...kustomization.resources].sort()).toEqual(manifestFiles)
    expect(new Set(kustomization.resources).size).toBe(kustomization.resources.length)
    const imageName = apiContainer.image!.split(":")[0]
    expect(kustomization.images?.map((image) => image.name)).toEqual([imageName])
  })

  it("the API, the worker and the migrations run one image, with the commands of the Dockerfile and compose", () => {
    expect(workerContainer.image).toBe(apiContainer.image)
    expect(migrateContainer.image).toBe(apiContainer.image)
    const compose = parse(read("docker-compose.yml"), { merge: true }) as {
      services: Record<string, { image?: string; command?: string[] }>
    }
    expect(apiContainer.image).toBe(compose.services.api!.image)
    // The API runs the image's CMD, which carries its V8 flags.
    expect(apiContainer.command).toBeUndefined()
    expect(apiContainer.args).toBeUndefined()
    expect(workerContainer.command).toEqual(compose.services.worker!.command)
    expect(migrateContainer.command).toEqual(compose.services.migrate!.command)
  })

  it("the API is ready on /readyz and alive on /healthz, on the port it listens on, behind its Service", () => {
    const port = apiContainer.ports!.find((p) => p.name === "http")!
    expect(port.containerPort).toBe(3000)
    expect(envValue(apiContainer, "PORT")?.value).toBe(String(port.containerPort))
    expect(api.spec!.replicas).toBe(3)

    const readiness = apiContainer.readinessProbe!.httpGet!
    expect(readiness.path).toBe("/readyz")
    expect(portNumber(apiContainer, readiness.port)).toBe(port.containerPort)
    const liveness = apiContainer.livenessProbe!.httpGet!
    expect(liveness.path).toBe("/healthz")
    expect(portNumber(apiContainer, liveness.port)).toBe(port.containerPort)

    expect(api.spec!.template.metadata!.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/path": "/metrics",
      "prometheus.io/port": String(port.containerPort),
    })

    expect(apiService.spec!.type).toBe("ClusterIP")
    expect(portNumber(apiContainer, apiService.spec!.ports![0]!.targetPort)).toBe(
      port.containerPort,
    )
    expect(api.spec!.template.metadata!.labels).toMatchObject(apiService.spec!.selector!)
    expect(api.spec!.selector.matchLabels).toEqual(apiService.spec!.selector)
  })

  it("the API drains before it stops: a pause for endpoints to update, then its 10 s for requests in flight", () => {
    const pause = apiContainer.lifecycle!.preStop!.exec!.command!
    expect(pause[0]).toBe("sleep")
    const drainSeconds = 10
    expect(api.spec!.template.spec!.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(pause[1]) + drainSeconds,
    )
    expect(api.spec!.strategy!.rollingUpdate!.maxUnavailable).toBe(0)
  })

  it("the autoscaler scales the API Deployment on CPU from 2 to 10; the budget keeps all but one", () => {
    expect(hpa.spec!.scaleTargetRef).toEqual({
      apiVersion: api.apiVersion,
      kind: api.kind,
      name: api.metadata!.name,
    })
    expect(hpa.spec!.minReplicas).toBe(2)
    expect(hpa.spec!.maxReplicas).toBe(10)
    expect(hpa.spec!.metrics).toEqual([
      expect.objectContaining({
        type: "Resource",
        resource: { name: "cpu", target: expect.objectContaining({ type: "Utilization" }) },
      }),
    ])
    // Utilization is measured against the request.
    expect(apiContainer.resources!.requests!.cpu).toBeDefined()

    expect(pdb.spec!.maxUnavailable).toBe(1)
    expect(api.spec!.template.metadata!.labels).toMatchObject(pdb.spec!.selector!.matchLabels!)
  })

  it("the worker serves metrics where Prometheus scrapes them", () => {
    expect(worker.spec!.replicas).toBe(2)
    const port = workerContainer.ports!.find((p) => p.name === "metrics")!
    expect(port.containerPort).toBe(9464)
    expect(envValue(workerContainer, "TXN_WORKER_METRICS_PORT")?.value).toBe("9464")
    expect(envValue(workerContainer, "HOST")?.value).toBe("0.0.0.0")
    expect(worker.spec!.template.metadata!.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/path": "/metrics",
      "prometheus.io/port": "9464",
    })
  })

  it("the migration Job runs once, straight against PostgreSQL, and is cleaned up", () => {
    expect(migrate.spec!.backoffLimit).toBeGreaterThan(0)
    expect(migrate.spec!.ttlSecondsAfterFinished).toBeGreaterThan(0)
    expect(migrate.spec!.template.spec!.restartPolicy).toBe("Never")
    expect(envValue(migrateContainer, "DATABASE_URL")?.valueFrom?.secretKeyRef).toMatchObject({
      name: secret.metadata!.name,
      key: "DATABASE_DIRECT_URL",
    })
    expect(read("deploy/k8s/migrate-job.yaml")).toMatch(/before the API and\s+# worker roll out/i)
  })

  it("every variable taken from the ConfigMap or the Secret is there", () => {
    const configMaps = new Map([[configMap.metadata!.name, configMap.data ?? {}]])
    const secrets = new Map([[secret.metadata!.name, { ...secret.data, ...secret.stringData }]])
    const missing = podTemplates.flatMap(([workload, template]) =>
      template.spec!.containers.flatMap((container) => [
        ...(container.envFrom ?? []).flatMap((from) => {
          if (from.configMapRef !== undefined && !configMaps.has(from.configMapRef.name)) {
            return [`${workload}: ConfigMap ${from.configMapRef.name}`]
          }
          if (from.secretRef !== undefined && !secrets.has(from.secretRef.name)) {
            return [`${workload}: Secret ${from.secretRef.name}`]
          }
          return []
        }),
        ...(container.env ?? []).flatMap(({ name, valueFrom }) => {
          const fromConfigMap = valueFrom?.configMapKeyRef
          if (
            fromConfigMap !== undefined &&
            !(fromConfigMap.key in (configMaps.get(fromConfigMap.name) ?? {}))
          ) {
            return [`${workload} ${name}: ConfigMap ${fromConfigMap.name} key ${fromConfigMap.key}`]
          }
          const fromSecret = valueFrom?.secretKeyRef
          if (
            fromSecret !== undefined &&
            !(fromSecret.key in (secrets.get(fromSecret.name) ?? {}))
          ) {
            return [`${workload} ${name}: Secret ${fromSecret.name} key ${fromSecret.key}`]
          }
          return []
        }),
      ]),
    )
    expect(missing).toEqual([])
    for (const container of appContainers) {
      expect(container.envFrom).toContainEqual({ configMapRef: { name: configMap.metadata!.name } })
    }
  })

  it("DATABASE_URL goes through the PgBouncer Service, DATABASE_DIRECT_URL straight to PostgreSQL, as the same user", () => {
    const pooled = new URL(secretData.DATABASE_URL!)
    const direct = new URL(secretData.DATABASE_DIRECT_URL!)
    expect(pooled.hostname).toBe(pgbouncerService.metadata!.name)
    expect(direct.hostname).not.toBe(pgbouncerService.metadata!.name)
    const servicePort = pgbouncerService.spec!.ports![0]!
    expect(Number(pooled.port || 5432)).toBe(servicePort.port)
    expect(portNumber(pgbouncerContainer, servicePort.targetPort)).toBe(5432)
    expect(pgbouncer.spec!.template.metadata!.labels).toMatchObject(
      pgbouncerService.spec!.selector!,
    )
    // PgBouncer's [databases] entry and userlist come from the direct URL (the image's entrypoint
    // parses it with sed, so no query string), and the app logs in to it as PostgreSQL's user.
    expect(envValue(pgbouncerContainer, "DATABASE_URL")?.valueFrom?.secretKeyRef?.key).toBe(
      "DATABASE_DIRECT_URL",
    )
    expect(direct.search).toBe("")
    expect([pooled.username, pooled.password, pooled.pathname]).toEqual([
      direct.username,
      direct.password,
      direct.pathname,
    ])
    expect(envValue(pgbouncerContainer, "POOL_MODE")?.value).toBe("transaction")

    for (const container of [apiContainer, workerContainer]) {
      for (const key of ["DATABASE_URL", "DATABASE_DIRECT_URL", "REDIS_URL"]) {
        expect(envValue(container, key)?.valueFrom?.secretKeyRef?.key).toBe(key)
      }
    }
    expect(envValue(apiContainer, "TXN_ADMIN_TOKEN")?.valueFrom?.secretKeyRef?.key).toBe(
      "TXN_ADMIN_TOKEN",
    )
  })

  it("the app's own config loader takes the settings, and refuses the placeholder admin token", () => {
    const data = configMap.data!
    const apiEnvironment = environmentOf(apiContainer)
    expect(() => loadConfig(apiEnvironment)).toThrow(ConfigError)
    expect(() => loadConfig(apiEnvironment)).toThrow(/TXN_ADMIN_TOKEN/)

    expect(loadConfig({ ...apiEnvironment, TXN_ADMIN_TOKEN: "a".repeat(32) })).toMatchObject({
      host: "0.0.0.0",
      port: 3000,
      logLevel: data.LOG_LEVEL,
      rateLimitPerMinute: Number(data.TXN_RATE_LIMIT_PER_MINUTE),
      requestTimeoutMs: Number(data.TXN_REQUEST_TIMEOUT_MS),
      queuePrefix: data.TXN_QUEUE_PREFIX,
      databasePoolMax: Number(data.DATABASE_POOL_MAX),
      trustedProxies: [data.TXN_TRUSTED_PROXIES],
    })
    expect(loadConfig(environmentOf(workerContainer))).toMatchObject({
      host: "0.0.0.0",
      workerMetricsPort: 9464,
    })
    expect(loadConfig(environmentOf(migrateContainer)).databaseUrl).toBeDefined()

    // A name the loader does not read would be ignored without a word, so each must be one it
    // reads.
    const readByLoader = new Set(
      [
        ...read("packages/config/src/AppConfig.ts").matchAll(/^ {2}([A-Z][A-Z0-9_]*): Schema\./gm),
      ].map((match) => match[1]),
    )
    readByLoader.add("NODE_ENV")
    const names = [
      ...Object.keys(data),
      ...appContainers.flatMap((container) => (container.env ?? []).map(({ name }) => name)),
    ]
    expect(names.filter((name) => !readByLoader.has(name))).toEqual([])
  })

  it("the Secret is a template: every value is a placeholder", () => {
    expect(secret.data).toBeUndefined()
    const values = Object.entries(secretData)
    expect(values.length).toBeGreaterThan(0)
    expect(values.filter(([, value]) => !value.includes("change-me"))).toEqual([])
  })

  it("every container runs as a non-root user on a read-only root filesystem, with requests and limits", () => {
    const problems = podTemplates.flatMap(([workload, template]) => {
      const pod = template.spec!
      return [
        ...(pod.automountServiceAccountToken === false
          ? []
          : [`${workload}: service account token mounted`]),
        ...pod.containers.flatMap((container) => {
          const context = { ...pod.securityContext, ...container.securityContext }
          const found: string[] = []
          // runAsNonRoot needs a numeric user: the images name theirs (node, postgres).
          if (context.runAsNonRoot !== true || !(Number(context.runAsUser) > 0)) found.push("root")
          if (container.securityContext?.readOnlyRootFilesystem !== true)
            found.push("writable root")
          if (container.securityContext?.allowPrivilegeEscalation !== false)
            found.push("escalation")
          if (!container.securityContext?.capabilities?.drop?.includes("ALL"))
            found.push("capabilities")
          for (const bound of ["requests", "limits"] as const) {
            for (const resource of ["cpu", "memory"]) {
              if (container.resources?.[bound]?.[resource] === undefined) {
                found.push(`${bound}.${resource}`)
              }
            }
          }
          return found.map((problem) => `${workload}/${container.name}: ${problem}`)
        }),
      ]
    })
    expect(problems).toEqual([])
    // The image's user: the uid that filled its compile cache, which Node keeps per user.
    for (const [, template] of podTemplates.filter(([name]) => name !== pgbouncer.metadata!.name)) {
      expect(template.spec!.securityContext!.runAsUser).toBe(1000)
    }
  })
})
