"""The official Python client (python3-kubernetes 22.6, unmodified) used as its users use it.

Run by test/python-client.test.ts against a test cluster: SKIFF_KUBECONFIG names the cluster's
admin kubeconfig. Run it by hand with `/usr/bin/python3 -m unittest discover -s test/python`.
"""

import json
import os
import threading
import unittest
import uuid

from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException


def new_client():
    return config.new_client_from_config(config_file=os.environ["SKIFF_KUBECONFIG"])


class ClientTest(unittest.TestCase):
    """Each test works in its own namespace, removed afterwards even when the test fails."""

    @classmethod
    def setUpClass(cls):
        cls.api_client = new_client()
        cls.core = client.CoreV1Api(cls.api_client)
        cls.apps = client.AppsV1Api(cls.api_client)

    def setUp(self):
        self.ns = "py-" + uuid.uuid4().hex[:8]
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=self.ns)))
        self.addCleanup(self.core.delete_namespace, self.ns)

    def config_map(self, name, data=None):
        return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data or {"k": "v"})

    def test_typed_create_read_list_patch_replace_delete(self):
        made = self.core.create_namespaced_config_map(self.ns, self.config_map("one", {"a": "1"}))
        self.assertEqual(made.metadata.name, "one")
        self.assertTrue(made.metadata.uid)
        got = self.core.read_namespaced_config_map("one", self.ns)
        self.assertEqual(got.data, {"a": "1"})
        self.assertEqual(got.metadata.resource_version, made.metadata.resource_version)

        patched = self.core.patch_namespaced_config_map("one", self.ns, {"data": {"b": "2"}})
        self.assertEqual(patched.data, {"a": "1", "b": "2"})
        patched.data["c"] = "3"
        replaced = self.core.replace_namespaced_config_map("one", self.ns, patched)
        self.assertEqual(replaced.data, {"a": "1", "b": "2", "c": "3"})

        names = [cm.metadata.name for cm in self.core.list_namespaced_config_map(self.ns).items]
        self.assertIn("one", names)

        dep = client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels={"app": "web"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "web"}),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]),
                ),
            ),
        )
        self.apps.create_namespaced_deployment(self.ns, dep)
        self.assertEqual(self.apps.read_namespaced_deployment("web", self.ns).spec.replicas, 2)
        scale = self.apps.patch_namespaced_deployment_scale("web", self.ns, {"spec": {"replicas": 3}})
        self.assertEqual(scale.spec.replicas, 3)

        status = self.core.delete_namespaced_config_map("one", self.ns)
        self.assertEqual(status.status, "Success")
        with self.assertRaises(ApiException) as caught:
            self.core.read_namespaced_config_map("one", self.ns)
        self.assertEqual(caught.exception.status, 404)

    def test_pretty_output(self):
        self.core.create_namespaced_config_map(self.ns, self.config_map("pretty"))
        raw = self.core.read_namespaced_config_map("pretty", self.ns, pretty="True", _preload_content=False).data
        self.assertTrue(raw.startswith(b'{\n  "'), raw[:40])
        self.assertIn(b'\n  "kind": "ConfigMap"', raw)
        raw = self.core.read_namespaced_config_map("pretty", self.ns, pretty="false", _preload_content=False).data
        self.assertNotIn(b"\n", raw)
        self.assertIn(b'"kind":"ConfigMap"', raw)

    def test_errors_are_api_exceptions_with_the_status_body(self):
        with self.assertRaises(ApiException) as caught:
            self.core.read_namespaced_config_map("missing", self.ns)
        err = caught.exception
        self.assertEqual(err.status, 404)
        body = json.loads(err.body)
        self.assertEqual(body["kind"], "Status")
        self.assertEqual(body["reason"], "NotFound")
        self.assertEqual(body["message"], 'configmaps "missing" not found')
        self.assertEqual(body["details"], {"name": "missing", "kind": "configmaps"})

        self.core.create_namespaced_config_map(self.ns, self.config_map("twice"))
        with self.assertRaises(ApiException) as caught:
            self.core.create_namespaced_config_map(self.ns, self.config_map("twice"))
        self.assertEqual(caught.exception.status, 409)
        self.assertEqual(json.loads(caught.exception.body)["reason"], "AlreadyExists")

        with self.assertRaises(ApiException) as caught:
            self.core.create_namespaced_config_map(self.ns, self.config_map("Not_A_Name"))
        self.assertEqual(caught.exception.status, 422)
        body = json.loads(caught.exception.body)
        self.assertEqual(body["reason"], "Invalid")
        self.assertEqual(body["details"]["causes"][0]["field"], "metadata.name")

    def test_watch_without_resource_version_sends_the_state_then_changes(self):
        self.core.create_namespaced_config_map(self.ns, self.config_map("before"))
        # Created while the watch runs: the second event the stream yields.
        timer = threading.Timer(0.5, lambda: self.core.create_namespaced_config_map(self.ns, self.config_map("during")))
        seen = []
        w = watch.Watch()
        timer.start()
        try:
            for event in w.stream(self.core.list_namespaced_config_map, self.ns, timeout_seconds=20):
                seen.append((event["type"], event["object"].metadata.name))
                if len(seen) == 2:
                    w.stop()
        finally:
            timer.cancel()
        self.assertEqual(seen, [("ADDED", "before"), ("ADDED", "during")])
        self.assertIsInstance(event["object"], client.V1ConfigMap)

    def test_watch_from_a_resource_version_sends_only_later_changes(self):
        self.core.create_namespaced_config_map(self.ns, self.config_map("old"))
        listed = self.core.list_namespaced_config_map(self.ns)
        self.core.create_namespaced_config_map(self.ns, self.config_map("new"))
        self.core.patch_namespaced_config_map("new", self.ns, {"data": {"k": "changed"}})
        self.core.delete_namespaced_config_map("old", self.ns)
        seen = []
        w = watch.Watch()
        for event in w.stream(
            self.core.list_namespaced_config_map,
            self.ns,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=20,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                w.stop()
        self.assertEqual(seen, [("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "old")])
        self.assertEqual(event["object"].metadata.name, "old")

    def test_watch_with_bookmarks_and_raw_events(self):
        self.core.create_namespaced_config_map(self.ns, self.config_map("raw"))
        seen = []
        w = watch.Watch()
        for event in w.stream(
            self.core.list_namespaced_config_map,
            self.ns,
            allow_watch_bookmarks=True,
            timeout_seconds=20,
            _preload_content=False,
        ):
            seen.append((event["type"], event["raw_object"]["kind"], event["raw_object"]["metadata"]["name"]))
            w.stop()
        self.assertEqual(seen, [("ADDED", "ConfigMap", "raw")])

    def test_dynamic_client_over_discovery(self):
        dyn = dynamic.DynamicClient(self.api_client)
        cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
        self.assertTrue(cms.namespaced)
        cms.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}, "data": {"x": "1"}}, namespace=self.ns)
        got = cms.get(name="dyn", namespace=self.ns)
        self.assertEqual(got.data.x, "1")
        patched = cms.patch(
            name="dyn", namespace=self.ns, body={"data": {"y": "2"}}, content_type="application/merge-patch+json"
        )
        self.assertEqual(dict(patched.data), {"x": "1", "y": "2"})
        self.assertEqual([i.metadata.name for i in cms.get(namespace=self.ns).items], ["dyn"])

        deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
        self.assertEqual(deployments.group_version, "apps/v1")
        self.assertEqual(deployments.get(namespace=self.ns).items, [])

        seen = []
        for event in cms.watch(namespace=self.ns, timeout=20):
            seen.append((event["type"], event["object"].metadata.name))
            break
        self.assertEqual(seen, [("ADDED", "dyn")])

        cms.delete(name="dyn", namespace=self.ns)
        with self.assertRaises(dynamic.exceptions.NotFoundError):
            cms.get(name="dyn", namespace=self.ns)

    def test_custom_objects(self):
        ext = client.ApiextensionsV1Api(self.api_client)
        plural = "gizmos" + self.ns.replace("-", "")
        group = "py.example.com"
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": plural + "." + group},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": plural, "singular": plural[:-1], "kind": "Gizmo" + self.ns[3:]},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}},
                    }
                ],
            },
        }
        ext.create_custom_resource_definition(crd)
        self.addCleanup(ext.delete_custom_resource_definition, crd["metadata"]["name"])
        w = watch.Watch()
        for event in w.stream(ext.list_custom_resource_definition, field_selector="metadata.name=" + crd["metadata"]["name"], timeout_seconds=30):
            conditions = (event["object"].status.conditions or []) if event["object"].status else []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                w.stop()

        custom = client.CustomObjectsApi(self.api_client)
        kind = crd["spec"]["names"]["kind"]
        body = {"apiVersion": group + "/v1", "kind": kind, "metadata": {"name": "g"}, "spec": {"size": 1}}
        made = custom.create_namespaced_custom_object(group, "v1", self.ns, plural, body)
        self.assertEqual(made["spec"], {"size": 1})
        patched = custom.patch_namespaced_custom_object(group, "v1", self.ns, plural, "g", {"spec": {"size": 2}})
        self.assertEqual(patched["spec"]["size"], 2)
        listed = custom.list_namespaced_custom_object(group, "v1", self.ns, plural)
        self.assertEqual([i["metadata"]["name"] for i in listed["items"]], ["g"])
        with self.assertRaises(ApiException) as caught:
            custom.create_namespaced_custom_object(group, "v1", self.ns, plural, dict(body, metadata={"name": "bad"}, spec={"size": "big"}))
        self.assertEqual(caught.exception.status, 422)
        self.assertIn("spec.size: Invalid value", json.loads(caught.exception.body)["message"])
        custom.delete_namespaced_custom_object(group, "v1", self.ns, plural, "g")
        seen = []
        for event in w.stream(
            custom.list_namespaced_custom_object, group, "v1", self.ns, plural,
            resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=20,
        ):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            w.stop()
        self.assertEqual(seen, [("DELETED", "g")])

    def test_paging_with_continue(self):
        for i in range(5):
            self.core.create_namespaced_config_map(self.ns, self.config_map("page-%d" % i))
        names, token, pages = [], None, 0
        while True:
            page = self.core.list_namespaced_config_map(self.ns, limit=2, _continue=token)
            pages += 1
            names += [cm.metadata.name for cm in page.items]
            token = page.metadata._continue
            if not token:
                break
            self.assertEqual(len(page.items), 2)
        self.assertEqual(pages, 3)
        self.assertEqual(names, ["page-%d" % i for i in range(5)])


if __name__ == "__main__":
    unittest.main()
