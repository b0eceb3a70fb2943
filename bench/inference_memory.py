"""Peak GPU memory and time of a 7B Text2World generation at 704x1280x121, as offload flags are added.

The reference publishes this ladder (examples/inference_diffusion_text2world.md in nvidia-cosmos/cosmos-predict1): 74.0 GB
with the prompt upsampler offloaded, 38.5 GB with T5 too, 24.4 GB with every model offloaded. Real weights cannot be downloaded on our machines, so the three models are built with random weights at
their real sizes (T5-11B encoder in fp32, the 7B DiT in bf16, the CV8x8x8-720p tokenizer in bf16) straight on the GPU;
memory and time do not depend on the values. Everything else is the real `Text2WorldPipeline.generate` path:
T5 on prompt and negative prompt, EDM-Euler sampling with CFG (2 DiT calls per step), tokenizer decode, offloading.

    PYTHONPATH=. python bench/inference_memory.py                 # ladder with --ladder_steps 1, then a 35-step run
    PYTHONPATH=. python bench/inference_memory.py --steps 0       # ladder only

Prints a table and writes bench/results/inference_memory.json.
"""
import argparse, json, time, gc, platform, dataclasses
from pathlib import Path
import torch
from cosmos_nb.config import dit_config, TokenizerConfig
from cosmos_nb.inference import Text2WorldArgs, Text2WorldPipeline, DEFAULT_NEGATIVE_PROMPT
from cosmos_nb.checkpoint import CheckpointInfo

T5_11B = dict(vocab_size=32128, d_model=1024, d_kv=128, d_ff=65536, num_layers=24, num_heads=128,
              relative_attention_num_buckets=32, feed_forward_proj='relu', dropout_rate=0.0)
PROMPT = ("A sleek, humanoid robot stands in a vast warehouse filled with neatly stacked cardboard boxes on industrial "
          "shelves. The robot's metallic body gleams under the bright, even lighting.")

def _rand_init_(m, std=0.02):
    with torch.no_grad():
        for p in m.parameters(): p.normal_(0, std)
        for n, b in m.named_buffers():
            if b.is_floating_point() and b.numel() and not torch.isfinite(b).all(): b.zero_()
    return m

class RandomWeightsPipeline(Text2WorldPipeline):
    "The real pipeline, with models built at their real sizes from random weights instead of read from files."
    def __init__(self, args, device='cuda', tile=None):
        self.args, self.device, self.dtype, self.verbose = args, torch.device(device), torch.bfloat16, False
        self.net_cfg = dit_config('7b')
        self.dit_info = CheckpointInfo(kind='7B', model_channels=4096, num_blocks=28, num_heads=32)
        self._models, self.lora_report, self.tile = {}, None, tile
        self.t5_dir = self.dit_dir = self.tok_dir = self.up_dir = Path('(random weights)')
        self.cp_group, self.is_main = None, True
        self.stage_peaks, self.stage_seconds, self._t = {}, {}, time.time()

    def _mark(self, key):
        torch.cuda.synchronize()
        self.stage_peaks[key] = round(max(self.stage_peaks.get(key, 0), torch.cuda.max_memory_allocated()/1e9), 2)
        self.stage_seconds[key] = round(self.stage_seconds.get(key, 0) + time.time() - self._t, 2)
        torch.cuda.reset_peak_memory_stats(); self._t = time.time()

    def _get(self, name, offload):
        "The pipeline's stage start; the peak GPU memory of each stage (its load included when offloaded) is recorded."
        self._mark('before ' + name)
        return Text2WorldPipeline._get(self, name, offload)

    def _release(self, name, offload):
        Text2WorldPipeline._release(self, name, offload)
        self._mark(name)

    def _load(self, name):
        t0 = time.time()
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        if name == 't5':
            from transformers import T5Config, T5EncoderModel
            from cosmos_nb.text import T5TextEncoder, train_tiny_t5_tokenizer
            with torch.device('meta'): enc = T5EncoderModel(T5Config(**T5_11B))
            enc = _rand_init_(enc.to_empty(device=self.device))          # fp32, as the reference
            m = T5TextEncoder(enc, train_tiny_t5_tokenizer(), device=self.device)
        elif name == 'dit':
            from cosmos_nb.dit import DiffusionNet
            with torch.device('meta'): m = DiffusionNet(self.net_cfg)
            m = m.to(torch.bfloat16).to_empty(device=self.device)      # bf16 straight away: never an fp32 copy on the GPU
            m.net.init_weights() if hasattr(m.net, 'init_weights') else _rand_init_(m)
            m = self._speedups(m.eval().requires_grad_(False))            # --fp8, --compile, as the real pipeline
        elif name == 'upsampler':                                        # the 12B Mistral, bf16, random weights
            from transformers import AutoTokenizer, MistralForCausalLM
            from cosmos_nb.upsampler import PromptUpsampler, mistral_config, make_tiny_upsampler, UPSAMPLER_12B
            import tempfile
            tok = AutoTokenizer.from_pretrained(str(make_tiny_upsampler(_scratch()/'up')))  # its chat template
            cfg = mistral_config(UPSAMPLER_12B, bos=tok.bos_token_id, eos=tok.eos_token_id, pad=10)
            with torch.device('meta'): lm = MistralForCausalLM(cfg)
            lm = _rand_init_(lm.to(torch.bfloat16).to_empty(device=self.device))
            with torch.device(self.device): lm.model.rotary_emb = type(lm.model.rotary_emb)(config=cfg)
            m = PromptUpsampler(lm.eval().requires_grad_(False), tok, self.device)
        elif name == 'text_guard':                                       # Llama Guard 3 8B, bf16, random weights
            from transformers import LlamaConfig, LlamaForCausalLM
            from cosmos_nb.text_guard import Blocklist, LlamaGuard3, make_tiny_text_guardrails
            g, lg_dir = make_tiny_text_guardrails(_scratch()/'tg')                   # the blocklist and a chat template
            tiny = LlamaGuard3.from_folder(lg_dir, device='cpu')
            with torch.device(self.device): m8 = LlamaForCausalLM._from_config(LlamaConfig(**LLAMA_GUARD_8B), dtype=torch.bfloat16)
            m = _TimedOnly(Blocklist.from_folder(g), LlamaGuard3(m8, tiny.tokenizer, device=self.device))
        elif name == 'video_guard':                                      # SigLIP so400m + head, RetinaFace R50, fp32
            from transformers import SiglipVisionConfig, SiglipVisionModel
            from cosmos_nb.video_guard import VideoGuardrails, VideoSafetyFilter, VideoSafetyModel, SiglipPrep, FaceBlur, RetinaFace
            with torch.device(self.device):
                enc = SiglipVisionModel(SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                                                           num_attention_heads=16, image_size=384, patch_size=14))
                hd, net = VideoSafetyModel(), RetinaFace()
            with torch.no_grad():                                        # every frame Safe, no faces: the whole video is checked
                hd.network.layers[6].weight.zero_(); hd.network.layers[6].bias.zero_(); hd.network.layers[6].bias[0] = 5.
                for h in net.ClassHead: h.conv1x1.weight.zero_(); h.conv1x1.bias.copy_(torch.tensor([10., -10.]).repeat(2))
            m = VideoGuardrails(VideoSafetyFilter(enc, hd, SiglipPrep(), self.device), FaceBlur(net, self.device))
        elif name == 'tokenizer':
            from cosmos_nb.tokenizer import VideoTokenizer
            cfg = TokenizerConfig(pixel_chunk_duration=min(self.args.num_video_frames, 121))
            m = VideoTokenizer(cfg, dtype='bf16')                           # ~0.1B params: built on the CPU, then moved
            _rand_init_(m.autoencoder, 0.01)
            m = m.to(self.device)
            if self.tile and hasattr(m, 'enable_tiling'): m.enable_tiling(**self.tile)
        self._mark('load ' + name)
        self.load_seconds = getattr(self, 'load_seconds', 0) + time.time() - t0
        return m

LLAMA_GUARD_8B = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, max_position_embeddings=131072, rope_theta=500000.0, rms_norm_eps=1e-5,
                      tie_word_embeddings=False, bos_token_id=128000, eos_token_id=[128001, 128008, 128009],
                      rope_scaling=dict(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                        original_max_position_embeddings=8192))

def _scratch():
    import tempfile
    return Path(tempfile.mkdtemp())

class _TimedOnly:
    "The text guardrail's work (blocklist, then Llama Guard's generation) with a random model's verdict ignored."
    def __init__(self, blocklist, llama_guard): self.blocklist, self.llama_guard = blocklist, llama_guard
    def check(self, prompt):
        self.blocklist.check(prompt); self.llama_guard.moderate(prompt)
        return None

def run(flags, steps, tile, label):
    gc.collect(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    a = Text2WorldArgs(num_steps=steps, **{'disable_guardrail': True, 'disable_prompt_upsampler': True, **flags})
    pipe = RandomWeightsPipeline(a, tile=tile)
    t0 = time.time()
    pipe.load_all()
    torch.cuda.synchronize(); t1 = time.time()
    video = pipe.generate(PROMPT, seed=1, progress=False)
    torch.cuda.synchronize(); t2 = time.time()
    pipe._mark('end')
    peak = max(pipe.stage_peaks.values())
    reserved = torch.cuda.max_memory_reserved()/1e9
    r = dict(config=label, steps=steps, peak_allocated_GB=round(peak, 2), peak_allocated_GiB=round(peak*1e9/2**30, 2),
             peak_reserved_GB=round(reserved, 2),
             generate_s=round(t2 - t1, 1), sampling_s=round(pipe.sampling_seconds, 1), video_shape=list(video.shape),
             stage_peaks_GB=pipe.stage_peaks, stage_seconds=pipe.stage_seconds)
    print(f"{label:34s} steps {steps:3d}  peak {peak:6.2f} GB (reserved {reserved:6.2f})  generate {r['generate_s']:7.1f} s  "
          f"sampling {r['sampling_s']:7.1f} s", flush=True)
    print('    per stage (GB):', ', '.join(f"{k} {v}" for k, v in pipe.stage_peaks.items()), flush=True)
    print('    per stage (s):', ', '.join(f"{k} {v}" for k, v in pipe.stage_seconds.items()), flush=True)
    del pipe, video; gc.collect(); torch.cuda.empty_cache()
    return r

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ladder_steps', type=int, default=1, help='sampling steps for each ladder row (peak memory is reached in step 1)')
    ap.add_argument('--steps', type=int, default=35, help='steps of the timed full run with every offload flag (0: skip)')
    ap.add_argument('--tile', default='', help="tokenizer tile size,overlap in pixels ('' for no tiling)")
    ap.add_argument('--rows', default=None, help="comma-separated ladder rows to run (0-13; default all; 9-13: the reference's ladder)")
    ap.add_argument('--compile', action='store_true', help="the timed full run with --compile")
    ap.add_argument('--fp8', action='store_true', help="the timed full run with --fp8")
    ap.add_argument('--resident', action='store_true', help="the timed full run with every model resident (no offload flags)")
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent/'results'/'inference_memory.json'))
    a = ap.parse_args()
    tile = dict(zip(('tile_size', 'overlap'), map(int, a.tile.split(',')))) if a.tile else None
    up = dict(disable_prompt_upsampler=False, offload_prompt_upsampler=True)   # the reference's ladder starts here
    ref = dict(up, disable_guardrail=False)                                      # … with the guardrails on
    ladder = [('nothing offloaded', {}),
              ('+ T5 encoder', dict(offload_text_encoder_model=True)),
              ('+ tokenizer', dict(offload_text_encoder_model=True, offload_tokenizer=True)),
              ('+ diffusion model (all)', dict(offload_text_encoder_model=True, offload_tokenizer=True, offload_diffusion_transformer=True)),
              ('upsampler offloaded', up),
              ('upsampler + T5 offloaded', dict(up, offload_text_encoder_model=True)),
              ('upsampler + T5 + tokenizer offloaded', dict(up, offload_text_encoder_model=True, offload_tokenizer=True)),
              ('upsampler + all offloaded', dict(up, offload_text_encoder_model=True, offload_tokenizer=True, offload_diffusion_transformer=True)),
              ('upsampler resident, rest offloaded', dict(up, offload_prompt_upsampler=False, offload_text_encoder_model=True,
                                                          offload_tokenizer=True, offload_diffusion_transformer=True)),
              ('guardrails on: upsampler offloaded', ref),                                                      # 9: the reference's 74.0 GB
              ('+ guardrails', dict(ref, offload_guardrail_models=True)),                                      # 57.1
              ('+ T5 encoder', dict(ref, offload_guardrail_models=True, offload_text_encoder_model=True)),     # 38.5
              ('+ tokenizer', dict(ref, offload_guardrail_models=True, offload_text_encoder_model=True, offload_tokenizer=True)),  # 38.3
              ('+ diffusion model (every model offloaded)', dict(ref, offload_guardrail_models=True, offload_text_encoder_model=True,
                                                                  offload_tokenizer=True, offload_diffusion_transformer=True))]  # 24.4
    res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, resolution='704x1280x121',
               latent=[16, 16, 88, 160], tile=tile, reference_all_offloaded_GB=24.4,
               reference_ladder_GB={'upsampler offloaded': 74.0, '+ guardrails': 57.1, '+ T5 encoder': 38.5, '+ tokenizer': 38.3,
                                    '+ diffusion model': 24.4}, rows=[])
    print(f"{res['device']}, torch {torch.__version__}, 7B T2W 704x1280x121, random weights, tokenizer tiles {tile}")
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    save = lambda: out.write_text(json.dumps(res, indent=1))
    rows = ladder if a.rows is None else [ladder[int(i)] for i in a.rows.split(',')]
    for label, flags in rows:
        try: res['rows'].append(run(flags, a.ladder_steps, tile, label))
        except torch.OutOfMemoryError as e:
            print(f"{label}: out of memory"); res['rows'].append(dict(config=label, error='OOM'))
        save()
    if a.steps:
        fl = dict({} if a.resident else ladder[-1][1], compile=a.compile, fp8=a.fp8)
        label = f"{'every model resident' if a.resident else 'every model offloaded'}, {a.steps} steps" + \
                ''.join(f', --{k}' for k in ('compile', 'fp8') if fl[k])
        res['full_run'] = run(fl, a.steps, tile, label); save()
    print(f"wrote {out}")

if __name__ == '__main__': main()
