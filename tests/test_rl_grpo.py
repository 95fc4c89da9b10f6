"""The GRPO loop on a tiny random causal LM: rewarded tokens become more likely."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from verm.rl import GRPOConfig, GRPOTrainer, Task  # noqa: E402

WORDS = ["<pad>", "<eos>", "<unk>", "draw", "a", "chart", "good", "bad", "x", "y", "z", "svg"]


def _tiny_model_and_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    hf_tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                                  eos_token="<eos>", unk_token="<unk>")
    cfg = transformers.LlamaConfig(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   max_position_embeddings=64, pad_token_id=0, eos_token_id=1,
                                   bos_token_id=None)
    torch.manual_seed(0)
    return transformers.LlamaForCausalLM(cfg), hf_tok


def _p_good(model, tok) -> float:
    ids = tok(["draw a chart"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**ids).logits[0, -1]
    return float(torch.softmax(logits, -1)[WORDS.index("good")])


def test_grpo_increases_rewarded_token_probability(tmp_path):
    model, tok = _tiny_model_and_tokenizer()

    def reward_fn(responses, tasks):
        assert len(responses) == len(tasks)
        return [float(r.split().count("good")) for r in responses]

    cfg = GRPOConfig(group_size=8, learning_rate=3e-3, max_new_tokens=4, clip_high=0.2,
                     log_path=str(tmp_path / "log.jsonl"))
    trainer = GRPOTrainer(model, tok, cfg, reward_fn=reward_fn)
    before = _p_good(model, tok)
    tasks = [Task("draw a chart", gt_image=None), Task("draw a", gt_image=None)]
    torch.manual_seed(1)
    history = trainer.train([tasks] * 25, steps=25, progress=False)
    after = _p_good(model, tok)
    assert len(history) == 25
    assert after > before + 0.1, (before, after)
    assert (tmp_path / "log.jsonl").read_text().count("\n") == 25
    assert all(h.response_length <= 4 for h in history)


def test_kl_needs_reference():
    model, tok = _tiny_model_and_tokenizer()
    with pytest.raises(ValueError, match="ref_policy"):
        GRPOTrainer(model, tok, GRPOConfig(kl_coef=0.1), reward_fn=lambda r, t: [0.0] * len(r))
