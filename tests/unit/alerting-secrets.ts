/** Imports nothing: the engine tests use it without the Pulumi mocks. */
/**
 * What `pulumi config set --secret k8s-platform:alertingSecrets` holds in a test run: the endpoints of
 * the receivers Pulumi.prod.yaml declares (dev and local use their in-cluster webhook).
 */
export const TEST_ALERTING_SECRETS: Record<string, Record<string, string>> = {
    prod: {
        "pagerduty-oncall": "R0UT1NGKEY0123456789ABCDEF012345",
        "slack-alerts": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    },
};
