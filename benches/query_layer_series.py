#!/usr/bin/env python3
"""A backfill of every family kst's roll-ups read, for N clusters x S model servers, into a
VictoriaMetrics (its JSON-lines import: one line per series with all its points).

Per cluster (label `cluster` = the hub's ManagedCluster name, edge-0000 ...):
- per model server (vLLM, as vLLM names and buckets them; kst-sim/src/endpoints/vllm.rs):
  the gauges vllm:kv_cache_usage_perc, vllm:num_requests_running, vllm:num_requests_waiting;
  the counters vllm:prompt_tokens_total, vllm:generation_tokens_total,
  vllm:request_success_total, vllm:num_preemptions_total; the histogram
  vllm:time_to_first_token_seconds (22 bounds + +Inf, _sum, _count);
- per GPU (one a server; dcgm-exporter's names and labels): DCGM_FI_DEV_GPU_UTIL,
  DCGM_FI_DEV_XID_ERRORS, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_FB_FREE;
- per pool's endpoint picker (one a cluster, llm-d's names, `service` from a ServiceMonitor):
  llm_d_epp_request_total, llm_d_epp_request_error_total, llm_d_epp_ready_endpoints,
  llm_d_epp_average_kv_cache_utilization.
Families kst does not ask of clusters it sees only through a hub (vLLM's other histograms,
DCGM's other fields) are left out: a selector by name never reads them, though a real layer's
index would hold them.

Points every `step` seconds from `back` seconds ago to `ahead` seconds ahead: an instant query
during the run reads a sample at most `step` old, as from a scraper at that interval, without a
scraper's cost on the machine that measures kst.

Usage: query_layer_series.py CLUSTERS SERVERS PORT BACK AHEAD STEP -> prints the series count
"""
import json
import random
import sys
import time
import urllib.request

clusters, servers, port, back, ahead, step = (int(a) for a in sys.argv[1:7])
now = int(time.time())
times = list(range((now - back) // step * step, now + ahead + 1, step))
stamps = [t * 1000 for t in times]
elapsed = [t - times[0] for t in times]
BOUNDS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
          20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
LE = [repr(b) for b in BOUNDS] + ["+Inf"]
random.seed(7)
url = f"http://127.0.0.1:{port}/api/v1/import"
sent = 0
batch = []


def flush():
    global batch
    if batch:
        urllib.request.urlopen(urllib.request.Request(url, data="".join(batch).encode())).read()
        batch = []


def put(metric, values):
    global sent
    batch.append(json.dumps({"metric": metric, "values": values, "timestamps": stamps}, separators=(",", ":")) + "\n")
    sent += 1
    if len(batch) >= 20000:
        flush()


def ttft_cdf(median):
    # a log-normal-ish spread around the median: the fraction of requests under each bound
    return [1 / (1 + (median / b) ** 2.5) for b in BOUNDS] + [1.0]


for c in range(clusters):
    cluster = f"edge-{c:04d}"
    # a few clusters busy and slow, most ordinary
    slow = c % 50 == 7
    for p in range(servers):
        pod = f"vllm-decode-{p}"
        base = {"cluster": cluster, "namespace": "llm-d", "pod": pod, "job": "llm-d/vllm",
                "instance": f"10.{c // 250}.{c % 250}.{p}:8000", "model_name": "meta-llama/Llama-3.1-8B-Instruct"}
        kv = 0.3 + 0.6 * random.random()
        running = int(8 * kv)
        waiting = int(4 * kv) + (30 if slow else 0)
        req_rate = 2 + 3 * random.random()
        gen_rate, prompt_rate = 150 * req_rate, 800 * req_rate
        put({**base, "__name__": "vllm:kv_cache_usage_perc"}, [round(kv, 4)] * len(times))
        put({**base, "__name__": "vllm:num_requests_running"}, [running] * len(times))
        put({**base, "__name__": "vllm:num_requests_waiting"}, [waiting] * len(times))
        put({**base, "__name__": "vllm:prompt_tokens_total"}, [int(prompt_rate * e) for e in elapsed])
        put({**base, "__name__": "vllm:generation_tokens_total"}, [int(gen_rate * e) for e in elapsed])
        put({**base, "__name__": "vllm:request_success_total", "finished_reason": "stop"},
            [int(req_rate * e) for e in elapsed])
        put({**base, "__name__": "vllm:num_preemptions_total"}, [int(0.01 * e) for e in elapsed])
        counts = [int(req_rate * e) for e in elapsed]
        for le, f in zip(LE, ttft_cdf(4.0 if slow else 0.3)):
            put({**base, "__name__": "vllm:time_to_first_token_seconds_bucket", "le": le}, [int(n * f) for n in counts])
        put({**base, "__name__": "vllm:time_to_first_token_seconds_count"}, counts)
        put({**base, "__name__": "vllm:time_to_first_token_seconds_sum"},
            [round(n * (4.5 if slow else 0.35), 3) for n in counts])
        gpu = {"cluster": cluster, "gpu": str(p), "UUID": f"GPU-{c:05d}-{p}", "device": f"nvidia{p}",
               "modelName": "NVIDIA L40S", "Hostname": f"gpu-node-{p // 4}", "namespace": "llm-d", "pod": pod,
               "job": "gpu-operator/nvidia-dcgm-exporter"}
        util = 20 + 75 * kv
        put({**gpu, "__name__": "DCGM_FI_DEV_GPU_UTIL"}, [round(util)] * len(times))
        put({**gpu, "__name__": "DCGM_FI_DEV_XID_ERRORS"}, [79 if c % 400 == 3 and p == 0 else 0] * len(times))
        put({**gpu, "__name__": "DCGM_FI_DEV_FB_USED"}, [int(46068 * kv)] * len(times))
        put({**gpu, "__name__": "DCGM_FI_DEV_FB_FREE"}, [46068 - int(46068 * kv)] * len(times))
    epp = {"cluster": cluster, "namespace": "llm-d", "service": "llama-epp", "pod": "llama-epp-0",
           "job": "llm-d/epp", "model_name": "meta-llama/Llama-3.1-8B-Instruct",
           "target_model_name": "meta-llama/Llama-3.1-8B-Instruct"}
    total = servers * 3.5
    errors = 0.08 if c % 300 == 11 else 0.001
    put({**epp, "__name__": "llm_d_epp_request_total"}, [int(total * e) for e in elapsed])
    put({**epp, "__name__": "llm_d_epp_request_error_total"}, [int(total * errors * e) for e in elapsed])
    put({**epp, "__name__": "llm_d_epp_ready_endpoints", "name": "llama"}, [servers] * len(times))
    put({**epp, "__name__": "llm_d_epp_average_kv_cache_utilization", "name": "llama"}, [0.55] * len(times))
flush()
print(sent)
