/** The seeds' open front door as YAML: Gateway `openshift-ai-inference`, one HTTP listener admitting routes from all namespaces. */
export const OPEN_GATEWAY_YAML = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: openshift-ai-inference, namespace: openshift-ingress}
spec:
  listeners: [{name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}]
`
