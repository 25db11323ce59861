package sr3

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// sr3Namespaces: litellm is prod, litellm-dev is dev, db has no profile.
func sr3Namespaces() []any {
	mk := func(name string, kv ...string) *corev1.Namespace {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
		return n
	}
	return []any{
		mk("litellm", "llm-platform/profile", "prod"),
		mk("litellm-dev", "llm-platform/profile", "dev"),
		mk("db"),
	}
}

func sr3CM(namespace, name string, data map[string]string, labels ...string) *corev1.ConfigMap {
	c := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: data}
	if len(labels) > 0 {
		c.Labels = map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			c.Labels[labels[i]] = labels[i+1]
		}
	}
	return c
}

// sr3Config is a prod-shaped config.yaml; general is inserted under general_settings.
func sr3Config(general string) string {
	return "model_list:\n" +
		"  - model_name: llama\n" +
		"    litellm_params:\n" +
		"      model: hosted_vllm/llama\n" +
		"      api_base: http://vllm.serving.svc:8000/v1\n" +
		"general_settings:\n" +
		"  master_key: os.environ/PROXY_MASTER_KEY\n" +
		"  database_url: os.environ/DATABASE_URL\n" +
		general +
		"litellm_settings:\n" +
		"  cache: true\n" +
		"  cache_params:\n" +
		"    type: redis\n" +
		"    host: os.environ/REDIS_HOST\n" +
		"    port: os.environ/REDIS_PORT\n" +
		"router_settings:\n" +
		"  redis_host: os.environ/REDIS_HOST\n" +
		"  redis_port: os.environ/REDIS_PORT\n"
}

type sr3DeployOpt func(*appsv1.Deployment)

// sr3Deploy is the official chart's Deployment shape: container litellm, --config
// /etc/litellm/config.yaml, ConfigMap <name>-config mounted with subPath and items.
func sr3Deploy(namespace, name string, opts ...sr3DeployOpt) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "litellm"}},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name:  "litellm",
					Image: "ghcr.io/berriai/litellm-database:main-stable",
					Args:  []string{"--config", "/etc/litellm/config.yaml", "--port", "4000"},
					Env: []corev1.EnvVar{
						{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "litellm-pg-app"}, Key: "uri"}}},
						{Name: "REDIS_HOST", Value: "redis-master." + namespace + ".svc"},
						{Name: "REDIS_PORT", Value: "6379"},
					},
					VolumeMounts: []corev1.VolumeMount{{Name: "litellm-config", MountPath: "/etc/litellm/config.yaml", SubPath: "config.yaml"}},
				}},
				Volumes: []corev1.Volume{{Name: "litellm-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: name + "-config"},
					Items:                []corev1.KeyToPath{{Key: "config.yaml", Path: "config.yaml"}},
				}}}},
			},
		}},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func sr3Container(d *appsv1.Deployment) *corev1.Container { return &d.Spec.Template.Spec.Containers[0] }

func sr3WithEnv(vars ...corev1.EnvVar) sr3DeployOpt {
	return func(d *appsv1.Deployment) { sr3Container(d).Env = append(sr3Container(d).Env, vars...) }
}

func sr3WithEnvFrom(src ...corev1.EnvFromSource) sr3DeployOpt {
	return func(d *appsv1.Deployment) { sr3Container(d).EnvFrom = append(sr3Container(d).EnvFrom, src...) }
}

func sr3WithDeployLabel(k, v string) sr3DeployOpt {
	return func(d *appsv1.Deployment) {
		if d.Labels == nil {
			d.Labels = map[string]string{}
		}
		d.Labels[k] = v
	}
}

func sr3Literal(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }

func sr3FromSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

func sr3FromCM(name, cm, key string, optional bool) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Key: key, Optional: &optional}}}
}

// cnpg is a CloudNativePG Cluster; instances and ready are set when not nil (any type,
// to exercise the tolerant reader).
func sr3CNPG(namespace, name string, instances, ready any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
		"metadata": map[string]any{"namespace": namespace, "name": name},
		"spec":     map[string]any{"storage": map[string]any{"size": "10Gi"}},
	}}
	if instances != nil {
		u.Object["spec"].(map[string]any)["instances"] = instances
	}
	if ready != nil {
		u.Object["status"] = map[string]any{"readyInstances": ready}
	}
	return u
}

// sr3Eval runs one rule and returns its findings as "rule|Kind|ns/name|severity" keys,
// sorted, with the findings and the inconclusive reasons.
func sr3Eval(r auditor.Rule, s *auditor.Snapshot) ([]string, []auditor.Finding, []string) {
	res := r.Evaluate(s)
	var ks []string
	for _, f := range res.Findings {
		ks = append(ks, fmt.Sprintf("%s|%s|%s/%s|%s", f.Rule, f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Severity))
	}
	sort.Strings(ks)
	return ks, res.Findings, res.Inconclusive
}

func sr3Messages(fs []auditor.Finding) string {
	out := ""
	for _, f := range fs {
		out += f.Message + "\n"
	}
	return out
}
