import {
  CreateWebhook,
  DeleteWebhook,
  ListDeliveries,
  ListWebhooks,
  UpdateWebhook,
  Webhooks,
} from "@txn/domain"
import { input, readProcedure, router, run, writeProcedure } from "../trpc.ts"

export const webhooksRouter = router({
  create: writeProcedure.input(input(CreateWebhook)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.create(ctx.caller.userId, input)),
    ),
  ),
  list: readProcedure.input(input(ListWebhooks)).query(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.list(ctx.caller.userId, input)),
    ),
  ),
  update: writeProcedure.input(input(UpdateWebhook)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.update(ctx.caller.userId, input)),
    ),
  ),
  delete: writeProcedure.input(input(DeleteWebhook)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.delete(ctx.caller.userId, input)),
    ),
  ),
  deliveries: readProcedure.input(input(ListDeliveries)).query(({ ctx, input }) =>
    run(
      ctx,
      Webhooks.use((w) => w.deliveries(ctx.caller.userId, input)),
    ),
  ),
})
