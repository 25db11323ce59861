package manifests

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

func metav1OwnerRef(kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name}
}
