# Random kustomization trees for differential testing against `kubectl kustomize`.
# usage: gen.py SEED OUTDIR  (prints the directory to build: top or ov)
import random, os, sys, json, shutil
seed = int(sys.argv[1]); out = sys.argv[2]
R = random.Random(seed)
shutil.rmtree(out, ignore_errors=True)
def w(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
def dump(objs): return "\n---\n".join(json.dumps(o) for o in objs) + "\n"
names = ["web", "api", "db", "cache", "worker"]
def workload(kind, name, cms, secs, sa):
    c = {"name": name, "image": R.choice(["nginx", "nginx:1.0", "redis:7", "registry.io/team/app:v1", "busybox@sha256:" + "a"*64])}
    if cms and R.random() < .7:
        c["envFrom"] = [{"configMapRef": {"name": R.choice(cms)}}]
    if secs and R.random() < .5:
        c["env"] = [{"name": "S", "valueFrom": {"secretKeyRef": {"name": R.choice(secs), "key": "k"}}}]
    if R.random() < .3:
        c.setdefault("env", []).append({"name": "V", "value": "$(SVC).$(SVC_NS):$(NOPE)"})
        c["args"] = ["--svc=$(SVC)", "$(SVC)", "$$(SVC)"]
    pod = {"containers": [c]}
    if sa and R.random() < .6: pod["serviceAccountName"] = sa
    if cms and R.random() < .5: pod["volumes"] = [{"name": "v", "configMap": {"name": R.choice(cms)}}]
    if R.random() < .3: pod["initContainers"] = [{"name": "init", "image": "busybox"}]
    tmpl = {"metadata": {"labels": {"app": name}}, "spec": pod}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": tmpl}}}}
    spec = {"selector": {"matchLabels": {"app": name}}, "template": tmpl}
    if kind != "DaemonSet" and R.random() < .5: spec["replicas"] = R.randint(1, 3)
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}
def base(dirname, idx):
    objs = []
    picked = R.sample(names, R.randint(1, 3))
    cms = [f"{n}-cfg" for n in picked]
    secs = [f"{n}-sec" for n in picked if R.random() < .5]
    sa = "runner" if R.random() < .6 else None
    for n in picked:
        kind = R.choice(["Deployment", "StatefulSet", "DaemonSet", "CronJob"])
        objs.append(workload(kind, n, cms, secs, sa))
        if R.random() < .7:
            objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": n}, "spec": {"selector": {"app": n}, "ports": [{"port": 80}]}})
    for c in cms[: R.randint(0, len(cms))]:
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": c}, "data": {"k": "v"}})
    for s in secs[: R.randint(0, len(secs))]:
        objs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": s}, "data": {"k": "dg=="}})
    if sa:
        objs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}})
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                     "subjects": [{"kind": "ServiceAccount", "name": sa}]})
    if R.random() < .4 and picked:
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "ing"},
                     "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": picked[0], "port": {"number": 80}}}}]}}]}})
    k = {"resources": ["objs.yaml"]}
    gens = [c for c in cms if not any(o["metadata"]["name"] == c and o["kind"] == "ConfigMap" for o in objs)]
    if gens:
        k["configMapGenerator"] = [{"name": g, "literals": [f"K{R.randint(0,9)}=v{R.randint(0,99)}"]} for g in gens]
    gsecs = [s for s in secs if not any(o["metadata"]["name"] == s and o["kind"] == "Secret" for o in objs)]
    if gsecs:
        k["secretGenerator"] = [{"name": s, "literals": ["k=secret"]} for s in gsecs]
    decorate(k, picked)
    w(f"{dirname}/objs.yaml", dump(objs))
    return k, picked
def decorate(k, picked):
    if R.random() < .5: k["namePrefix"] = R.choice(["a-", "b-", "team-"])
    if R.random() < .3: k["nameSuffix"] = R.choice(["-x", "-v2"])
    if R.random() < .5: k["namespace"] = R.choice(["ns1", "ns2", "prod"])
    if R.random() < .4: k["commonLabels"] = {"tier": R.choice(["fe", "be"])}
    if R.random() < .4: k["labels"] = [{"pairs": {"site": "s1"}, "includeSelectors": R.random() < .5, "includeTemplates": R.random() < .5}]
    if R.random() < .4: k["commonAnnotations"] = {"owner": "team"}
    if R.random() < .4: k["images"] = [{"name": "nginx", "newTag": "1.27"}, {"name": "registry.io/team/app", "newName": "mirror.io/app"}]
    if picked and R.random() < .5:
        n = R.choice(picked)
        k.setdefault("patches", []).append({"target": {"kind": "Deployment|StatefulSet", "name": n} if False else {"name": n},
            "patch": json.dumps([{"op": "add", "path": "/metadata/annotations", "value": {"patched": "yes"}}])})
    if picked and R.random() < .5:
        n = R.choice(picked)
        k.setdefault("patches", []).append({"target": {"labelSelector": "app=" + n} , "patch": "kind: Any\nmetadata:\n  name: x\n  labels:\n    smp: done\n"})
dirs = []
top = {"resources": []}
nb = R.randint(1, 2)
for i in range(nb):
    k, picked = base(f"{out}/base{i}", i)
    w(f"{out}/base{i}/kustomization.yaml", json.dumps(k))
    top["resources"].append(f"../base{i}")
mid = R.random() < .5
decorate(top, [])
allnames = []
for i in range(nb):
    import json as _j
    for line in open(f"{out}/base{i}/objs.yaml").read().split("\n---\n"):
        o = _j.loads(line)
        allnames.append((o["kind"], o["metadata"]["name"], o["apiVersion"]))
if allnames and R.random() < .5:
    kind, name, av = R.choice(allnames)
    top.setdefault("patches", []).append({"patch": f"apiVersion: {av}\nkind: {kind}\nmetadata:\n  name: {name}\n  annotations:\n    smp-by-name: \"1\"\n"})
wl = [n for (k, n, a) in allnames if k in ("Deployment", "StatefulSet")]
if wl and R.random() < .5:
    top["replicas"] = [{"name": R.choice(wl), "count": R.randint(2, 9)}]
gens = []
for i in range(nb):
    kk = json.loads(open(f"{out}/base{i}/kustomization.yaml").read())
    if "namespace" not in kk:
        gens += [g["name"] for g in kk.get("configMapGenerator", [])]
if gens and R.random() < .6:
    top.setdefault("configMapGenerator", []).append({"name": R.choice(gens), "behavior": R.choice(["merge", "replace"]), "literals": ["MERGED=yes"]})
if R.random() < .4:
    os.makedirs(f"{out}/comp", exist_ok=True)
    comp = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": ["extra.yaml"],
            "commonAnnotations": {"comp": "on"}}
    if R.random() < .5: comp["images"] = [{"name": "redis", "newName": "valkey", "newTag": "8"}]
    w(f"{out}/comp/kustomization.yaml", json.dumps(comp))
    w(f"{out}/comp/extra.yaml", dump([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra-ns"}}]))
    top["components"] = ["../comp"]
if wl and R.random() < .5:
    n = R.choice(wl)
    top.setdefault("patches", []).append({"target": {"kind": "Deployment|StatefulSet", "name": n},
        "patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: any\nspec:\n  template:\n    spec:\n      containers:\n      - name: " + n + "\n        env:\n        - name: ADDED\n          value: x\n      - name: sidecar\n        image: envoy\n"})
if gens and R.random() < .4:
    top.setdefault("patches", []).append({"target": {"kind": "ConfigMap", "name": R.choice(gens)}, "patch": json.dumps([{"op": "add", "path": "/data/PATCHED", "value": "1"}])})
if R.random() < .3:
    top["generatorOptions"] = {"disableNameSuffixHash": R.random() < .5, "labels": {"gen": "yes"}}
if R.random() < .3:
    top.setdefault("secretGenerator", []).append({"name": "tls", "type": "kubernetes.io/tls", "literals": ["tls.crt=CERT", "tls.key=KEY"]})
if R.random() < .3 and allnames:
    kind, name, av = R.choice(allnames)
    if kind not in ("ServiceAccount",):
        top.setdefault("patches", []).append({"patch": f"$patch: delete\napiVersion: {av}\nkind: {kind}\nmetadata:\n  name: {name}\n"})
if wl and R.random() < .4:
    top.setdefault("patches", []).append({"target": {"kind": "Deployment|StatefulSet"}, "patch": json.dumps([{"op": "add", "path": "/spec/template/spec/volumes", "value": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}])})
if R.random() < .3:
    top["configMapGenerator"] = [{"name": "top-cfg", "literals": ["X=1"]}]
svcs = [n for (k, n, a) in allnames if k == "Service"]
if svcs and R.random() < .6:
    n = R.choice(svcs)
    top["vars"] = [{"name": "SVC", "objref": {"kind": "Service", "name": n, "apiVersion": "v1"}},
                   {"name": "SVC_NS", "objref": {"kind": "Service", "name": n, "apiVersion": "v1"}, "fieldref": {"fieldpath": "metadata.namespace"}}]
if allnames and R.random() < .4:
    src = R.choice(allnames)
    tgt = R.choice(["Deployment", "Service", "ConfigMap", "StatefulSet"])
    top["replacements"] = [{"source": {"kind": src[0], "name": src[1]},
                            "targets": [{"select": {"kind": tgt}, "fieldPaths": ["metadata.annotations.source-name"],
                                         "options": {"create": True}}]}]
    if R.random() < .5:
        top["replacements"][0]["targets"].append({"select": {"kind": "Deployment"}, "reject": [{"name": R.choice(names)}],
            "fieldPaths": ["spec.template.spec.containers.0.image"], "options": {"delimiter": ":", "index": 1}})
w(f"{out}/top/kustomization.yaml", json.dumps(top))
if mid:
    ov = {"resources": ["../top"]}
    decorate(ov, [])
    w(f"{out}/ov/kustomization.yaml", json.dumps(ov))
    print("ov")
else:
    print("top")
