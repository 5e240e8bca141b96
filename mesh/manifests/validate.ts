// Validates rendered objects against the Kubernetes, Gateway API, cert-manager and prometheus-operator schemas (kubernetes-models),
// so an object that a real API server would refuse fails a test here first.
import * as admission from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as apiextensions from "kubernetes-models/apiextensions.k8s.io/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as batch from "kubernetes-models/batch/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import * as gateway from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import * as certManager from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import type { KubeObject } from "./mesh.ts";

type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Model> = {
  "v1/Namespace": core.Namespace,
  "v1/ServiceAccount": core.ServiceAccount,
  "v1/Service": core.Service,
  "v1/ConfigMap": core.ConfigMap,
  "v1/Secret": core.Secret,
  "apps/v1/Deployment": apps.Deployment,
  "apps/v1/DaemonSet": apps.DaemonSet,
  "batch/v1/Job": batch.Job,
  "rbac.authorization.k8s.io/v1/ClusterRole": rbac.ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": rbac.ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": rbac.Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": rbac.RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": apiextensions.CustomResourceDefinition,
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": admission.MutatingWebhookConfiguration,
  "gateway.networking.k8s.io/v1/GatewayClass": gateway.GatewayClass,
  "gateway.networking.k8s.io/v1/Gateway": gateway.Gateway,
  "gateway.networking.k8s.io/v1/HTTPRoute": gateway.HTTPRoute,
  "cert-manager.io/v1/ClusterIssuer": certManager.ClusterIssuer,
  "cert-manager.io/v1/Certificate": certManager.Certificate,
  "monitoring.coreos.com/v1/PodMonitor": monitoring.PodMonitor,
};

/** Throws with the object's kind/name and the schema's complaint; objects of unknown kinds are refused too. */
export function validateObject(o: KubeObject): void {
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  const id = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
  if (!model) throw new Error(`${id}: no schema for ${o.apiVersion} ${o.kind}; add its model to mesh/manifests/validate.ts`);
  try {
    new model(o as never).validate();
  } catch (err) {
    throw new Error(`${id} does not match the ${o.apiVersion} ${o.kind} schema: ${(err as Error).message}`);
  }
}
