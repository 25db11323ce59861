// Package dra reads what the GPU rules need of Dynamic Resource Allocation
// (resource.k8s.io/v1): the ResourceClaims and ResourceClaimTemplates pods take devices
// through, the DeviceClasses whose CEL selectors say which devices a request can get, and
// the ResourceSlices drivers publish devices in; and it decides whether a request can get
// a GPU (a device of a configured GPU driver, or a configured GPU class) and how many.
package dra
