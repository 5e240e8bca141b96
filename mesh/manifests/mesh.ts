// Pure: mesh configuration -> the Kubernetes objects that install the mesh (control plane, ztunnel,
// the CRDs for the policy subset we implement, the waypoint GatewayClass). Used by the Pulumi Mesh
// component and by the GitOps renderer, so both deploy exactly the same objects.
import { proxyPorts, proxyReadinessProbe } from "./proxy-ports.ts";
import { controlPlaneEndpoint, controlPlaneEnv, credentialMounts, credentialVolumes } from "./proxy-credentials.ts";
import { LABELS } from "../api/index.ts";

/** `I` is the image reference type: a string here, a Pulumi Input in the Mesh component (built images). */
export interface MeshManifestOptions<I = string> {
  namespace: string;
  trustDomain: string;
  logLevel: string;
  images: { controlPlane: I; ztunnel: I; waypoint: I };
  /** IfNotPresent on EKS (images by digest); Never on kind (images loaded into the nodes). */
  pullPolicy: "Never" | "IfNotPresent";
  /** False when the namespace is created earlier (by the component that issues the mesh CA into it). */
  includeNamespace?: boolean;
}

/** Pod Security admission's enforcement label, and our annotation saying why a namespace is privileged. */
export const PSS_ENFORCE = "pod-security.kubernetes.io/enforce";
export const PSS_REASON = "ambient-lab.io/pod-security-reason";

export function meshNamespaceObject(namespace: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: { "app.kubernetes.io/part-of": "ambient-lab", [LABELS.dataplaneMode]: "none", [PSS_ENFORCE]: "privileged" },
      annotations: { [PSS_REASON]: "ztunnel runs on the host network as root with NET_ADMIN to install the node's capture rules (as Istio's ztunnel)" },
    },
  };
}

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
} & Record<string, unknown>;

const APP_LABELS = (app: string) => ({ "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "ambient-lab" });

export function controlPlaneObjects<I>(o: MeshManifestOptions<I>): KubeObject[] {
  const ns = o.namespace;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "istiod", namespace: ns, labels: APP_LABELS("istiod") } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "ambient-lab-istiod", labels: APP_LABELS("istiod") },
      rules: [
        { apiGroups: [""], resources: ["namespaces", "pods", "services", "nodes"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["security.istio.io"], resources: ["authorizationpolicies", "peerauthentications"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["security.istio.io"], resources: ["authorizationpolicies/status"], verbs: ["patch", "update"] },
        { apiGroups: ["gateway.networking.k8s.io"], resources: ["gateways", "httproutes", "grpcroutes"], verbs: ["get", "list", "watch"] },
        // The waypoint deployment controller: each istio-waypoint Gateway's ServiceAccount, Deployment
        // and Service (server-side apply), and the Gateway's status.
        { apiGroups: ["gateway.networking.k8s.io"], resources: ["gateways/status"], verbs: ["patch", "update"] },
        // Mesh HTTPRoutes: accepted, or the reason they are not (route-status.ts).
        { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes/status", "grpcroutes/status"], verbs: ["patch", "update"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "create", "patch", "update"] },
        { apiGroups: [""], resources: ["services", "serviceaccounts"], verbs: ["get", "create", "patch", "update"] },
        { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        // The injection webhook's registration: its caBundle (injection/ca-bundle.ts), and nothing else's.
        {
          apiGroups: ["admissionregistration.k8s.io"],
          resources: ["mutatingwebhookconfigurations"],
          resourceNames: [INJECTOR_CONFIGURATION],
          verbs: ["get", "update"],
        },
        // The trust bundle ConfigMap in every enrolled namespace.
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "update"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "ambient-lab-istiod", labels: APP_LABELS("istiod") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "ambient-lab-istiod" },
      subjects: [{ kind: "ServiceAccount", name: "istiod", namespace: ns }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "ambient-lab-istiod-ca", namespace: ns, labels: APP_LABELS("istiod") },
      // The CA's key material: istio-ca-secret (self-signed) or cacerts (plugged in, e.g. by cert-manager).
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "create"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "ambient-lab-istiod-ca", namespace: ns, labels: APP_LABELS("istiod") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "ambient-lab-istiod-ca" },
      subjects: [{ kind: "ServiceAccount", name: "istiod", namespace: ns }],
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "istiod", namespace: ns, labels: APP_LABELS("istiod") },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "istiod" } },
        template: controlPlanePodTemplate(o),
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "istiod", namespace: ns, labels: APP_LABELS("istiod") },
      spec: {
        selector: { app: "istiod" },
        ports: [
          { name: "grpc-xds", port: 15012, targetPort: 15012, protocol: "TCP" },
          { name: "http-admin", port: 15014, targetPort: 15014, protocol: "TCP" },
          // The sidecar injection webhook, as istiod's: 443 on the Service, 15017 in the pod.
          { name: "https-webhook", port: 443, targetPort: 15017, protocol: "TCP" },
        ],
      },
    },
    sidecarInjectorWebhook(ns),
  ];
}

export const INJECTOR_CONFIGURATION = "ambient-lab-sidecar-injector";

/**
 * The sidecar injection webhook's registration, as Istio's: one webhook for namespaces labelled
 * istio-injection=enabled (pods saying sidecar.istio.io/inject=false excepted), one for pods labelled
 * sidecar.istio.io/inject=true in namespaces without the label. failurePolicy Fail: while the control
 * plane is down, pods of those namespaces are not created rather than created outside the mesh (as
 * Istio). reinvocationPolicy Never: the patch only adds our container, which no later webhook removes.
 * caBundle is left out: the control plane sets it (injection/ca-bundle.ts), and GitOps tools, owning
 * no such field, never reset it.
 */
export function sidecarInjectorWebhook(ns: string): KubeObject {
  const common = {
    clientConfig: { service: { name: "istiod", namespace: ns, path: "/inject", port: 443 } },
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "Namespaced" }],
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    failurePolicy: "Fail",
    reinvocationPolicy: "Never",
    matchPolicy: "Equivalent",
    timeoutSeconds: 10,
  };
  const notMesh = { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [ns, "kube-system"] };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: INJECTOR_CONFIGURATION, labels: APP_LABELS("istiod") },
    webhooks: [
      {
        name: "namespace.sidecar-injector.ambient-lab.io",
        ...common,
        namespaceSelector: { matchLabels: { "istio-injection": "enabled" }, matchExpressions: [notMesh] },
        objectSelector: { matchExpressions: [{ key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] }] },
      },
      {
        name: "object.sidecar-injector.ambient-lab.io",
        ...common,
        namespaceSelector: { matchExpressions: [{ key: "istio-injection", operator: "DoesNotExist" }, notMesh] },
        objectSelector: { matchLabels: { "sidecar.istio.io/inject": "true" } },
      },
    ],
  };
}

export function ztunnelObjects<I>(o: MeshManifestOptions<I>): KubeObject[] {
  const ns = o.namespace;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "ztunnel", namespace: ns, labels: APP_LABELS("ztunnel") } },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "ztunnel", namespace: ns, labels: APP_LABELS("ztunnel") },
      spec: {
        selector: { matchLabels: { app: "ztunnel" } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: ztunnelPodTemplate(o),
      },
    },
  ];
}

/** CRDs for the AuthorizationPolicy and PeerAuthentication subset we implement (status subresource included). */
export function policyCrds(): KubeObject[] {
  const crd = (kind: string, plural: string): KubeObject => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.security.istio.io`, labels: { "app.kubernetes.io/part-of": "ambient-lab" } },
    spec: {
      group: "security.istio.io",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List`, categories: ["istio-io", "security-istio-io"] },
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  });
  return [crd("AuthorizationPolicy", "authorizationpolicies"), crd("PeerAuthentication", "peerauthentications")];
}

export function waypointGatewayClass(): KubeObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "GatewayClass",
    metadata: { name: "istio-waypoint", labels: { "app.kubernetes.io/part-of": "ambient-lab" } },
    spec: { controllerName: "istio.io/mesh-controller", description: "ambient-lab waypoint proxies (HBONE on 15008)" },
  };
}

export function meshObjects<I = string>(o: MeshManifestOptions<I>): KubeObject[] {
  return [
    ...(o.includeNamespace === false ? [] : [meshNamespaceObject(o.namespace)]),
    ...policyCrds(),
    ...controlPlaneObjects(o),
    ...ztunnelObjects(o),
    waypointGatewayClass(),
  ];
}

/** A pod template: what the kubelet runs (here, and the single-machine cluster's own kubelet). */
export interface PodTemplate<I = string> {
  metadata: { labels: Record<string, string> };
  spec: Record<string, unknown> & { containers: Array<Record<string, unknown> & { name: string; image: I }> };
}

/**
 * The control plane's pod. `uid` is the user it runs as: Istio's 1337 in a cluster; the single-machine
 * cluster gives each pod its own, as its pods share one filesystem.
 */
export function controlPlanePodTemplate<I>(o: MeshManifestOptions<I>, uid = 1337): PodTemplate<I> {
  return {
    metadata: { labels: { app: "istiod", ...APP_LABELS("istiod"), [LABELS.dataplaneMode]: "none" } },
    spec: {
      serviceAccountName: "istiod",
      securityContext: { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "control-plane",
          image: o.images.controlPlane,
          imagePullPolicy: o.pullPolicy,
          env: [
            { name: "DISCOVERY", value: "kubernetes" },
            { name: "TRUST_DOMAIN", value: o.trustDomain },
            { name: "LOG_LEVEL", value: o.logLevel },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "SERVICE_ACCOUNT", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
            { name: "WAYPOINT_IMAGE", value: o.images.waypoint },
            { name: "WAYPOINT_PULL_POLICY", value: o.pullPolicy },
            // The sidecar the injection webhook adds: the ztunnel image in sidecar mode.
            { name: "SIDECAR_IMAGE", value: o.images.ztunnel },
            { name: "SIDECAR_PULL_POLICY", value: o.pullPolicy },
          ],
          ports: [
            { name: "grpc-xds", containerPort: 15012, protocol: "TCP" },
            { name: "http-admin", containerPort: 15014, protocol: "TCP" },
            { name: "https-webhook", containerPort: 15017, protocol: "TCP" },
          ],
          readinessProbe: { httpGet: { path: "/ready", port: 15014 }, periodSeconds: 5 },
          resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
}

/** ztunnel's pod on every node: the node's network namespace, root with NET_ADMIN for its capture rules. */
export function ztunnelPodTemplate<I>(o: MeshManifestOptions<I>): PodTemplate<I> {
  const ns = o.namespace;
  return {
    metadata: { labels: { app: "ztunnel", ...APP_LABELS("ztunnel"), [LABELS.dataplaneMode]: "none" } },
    spec: {
      serviceAccountName: "ztunnel",
      // Node-level capture: ztunnel runs in the node's network namespace and installs nft rules there.
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      priorityClassName: "system-node-critical",
      // Long enough for the drain deadline (CONNECTION_TERMINATION_DEADLINE = grace - 5 s).
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { operator: "Exists", effect: "NoSchedule" },
        { operator: "Exists", effect: "NoExecute" },
        { key: "CriticalAddonsOnly", operator: "Exists" },
      ],
      containers: [
        {
          name: "ztunnel",
          image: o.images.ztunnel,
          imagePullPolicy: o.pullPolicy,
          env: [
            { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            ...controlPlaneEnv(controlPlaneEndpoint(ns, o.trustDomain)),
            { name: "REDIRECT", value: "nft" },
            { name: "CONNECTION_TERMINATION_DEADLINE", value: "25s" },
            { name: "LOG_LEVEL", value: o.logLevel },
          ],
          ports: proxyPorts(),
          readinessProbe: proxyReadinessProbe(),
          resources: { requests: { cpu: "200m", memory: "128Mi" }, limits: { memory: "512Mi" } },
          // nft needs CAP_NET_ADMIN in the node's namespace; nothing else.
          securityContext: {
            privileged: false,
            runAsUser: 0,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] },
          },
          volumeMounts: credentialMounts(),
        },
      ],
      volumes: credentialVolumes(),
    },
  };
}
