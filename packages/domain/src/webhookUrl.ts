/**
 * What makes a webhook URL acceptable, whoever checks it: the API's schema and the dashboard's
 * form. Without imports, so a browser bundle takes it without the rest of the domain.
 */

/** How many endpoints one user may have. */
export const maxWebhooksPerUser = 25

/** The longest URL an endpoint may have. */
export const maxWebhookUrlLength = 2048

/** Why `text` is not a webhook URL (absolute http or https, no credentials, not too long), if so. */
export const webhookUrlFault = (
  text: string,
): "tooLong" | "notHttp" | "credentials" | undefined => {
  if (text.length > maxWebhookUrlLength) return "tooLong"
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return "notHttp"
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "notHttp"
  if (url.username !== "" || url.password !== "") return "credentials"
  return undefined
}
