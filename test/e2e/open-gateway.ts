/** An open front door as YAML: one HTTP listener admitting routes from all namespaces (the port is replaced in tests). */
export const openGatewayYaml = (name: string, namespace: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  listeners: [{name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}]
`

/** The seeds' open gateway, `openshift-ingress/openshift-ai-inference`. */
export const OPEN_GATEWAY_YAML = openGatewayYaml('openshift-ai-inference', 'openshift-ingress')
