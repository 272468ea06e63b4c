"""The original Nabla's first example, as written in the API: a lazy array per tensor,
one training step, and the gradients checked against ``nabla.grad`` of the same function.

Run: python examples/imperative_mlp_step.py
"""

import numpy as np

import nabla

nabla.seed(0)

weight = nabla.randn((3, 4), nabla.float32, requires_grad=True)
bias = nabla.randn((2, 4), nabla.float32, requires_grad=True)
label = nabla.randn((2, 4), nabla.float32)
input = nabla.randn((2, 3), nabla.float32)

logits = nabla.relu(input @ weight + bias)
loss = nabla.sum((logits - label) ** 2)
print("Loss:", loss)
loss.backward()

# the same function, differentiated by the functional transform
def step_loss(weight, bias, label, input):
    logits = nabla.relu(input @ weight + bias)
    return nabla.sum((logits - label) ** 2)

want = nabla.grad(step_loss, argnums=(0, 1))(weight, bias, label, input)
assert np.allclose(weight.grad(), want[0], rtol=1e-6) and np.allclose(bias.grad(), want[1],
                                                                      rtol=1e-6)
print("gradients equal nabla.grad's")

weight -= 0.01 * weight.grad()
bias -= 0.01 * bias.grad()

# the program backward() ran, as nabla generated it
print(loss.source())
