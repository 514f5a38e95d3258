/** `npm run txn -- <command>`: users and API keys, straight in the database. `--help` lists them. */
import { runCli } from "./runCli.ts"

process.exitCode = await runCli(process.argv.slice(2))
