// The advanced LSTM's recurrence (Tao and Liu, ICASSP 2018, eqs. 6-12): forward and
// hand-written backward through time as compiled per-step loops.
//
// Same maths, buffers and gate order (o, i, f, g) as the ATen loop of
// serbench/nn/fast_rnn/alstm.py (its docstrings carry the equations); this file only
// removes the per-step Python dispatch. Per step: one GEMM and the vectorised
// sigmoid/tanh through ATen, the cell update, the combinations (eqs. 8-12) and every
// backward coefficient in loops written here.
// Shapes: L steps, B batch rows, H hidden units, K look-backs.

#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace {

// The look-back steps read by step t (0-indexed), or none when t does not combine.
// idx[k] < 0 marks a look-back before the first step (no weight).
struct Plan {
  std::vector<int64_t> time_steps;
  int64_t every;
  bool combine;

  bool combines(int64_t t) const { return combine && (t + 1) % every == 0; }
  std::vector<int64_t> lookbacks(int64_t t) const {
    std::vector<int64_t> idx;
    for (auto tau : time_steps) idx.push_back(t + 1 - tau);
    return idx;
  }
};

// Softmax weights (eqs. 9/12) of the states S[idx[k]] at row b: W . s_k, or equal weights
// when W is null (the mean LSTM). Writes w[0..K).
template <typename T>
void mix_weights(const T* states, int64_t row_stride, int64_t step_stride,
                 const std::vector<int64_t>& idx, int64_t b, int64_t H, const T* W, T* w) {
  const int64_t K = idx.size();
  T best = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < K; ++k) {
    if (idx[k] < 0) {
      w[k] = -std::numeric_limits<T>::infinity();
      continue;
    }
    T e = 0;
    if (W != nullptr) {
      const T* s = states + idx[k] * step_stride + b * row_stride;
      for (int64_t j = 0; j < H; ++j) e += s[j] * W[j];
    }
    w[k] = e;
    if (e > best) best = e;
  }
  T total = 0;
  for (int64_t k = 0; k < K; ++k) {
    w[k] = idx[k] < 0 ? T(0) : std::exp(w[k] - best);
    total += w[k];
  }
  for (int64_t k = 0; k < K; ++k) w[k] /= total;
}

// out[j] = sum_k w_k S[idx[k], b, j]
template <typename T>
void mix_states(const T* states, int64_t row_stride, int64_t step_stride,
                const std::vector<int64_t>& idx, int64_t b, int64_t H, const T* w, T* out) {
  for (int64_t j = 0; j < H; ++j) out[j] = 0;
  for (size_t k = 0; k < idx.size(); ++k) {
    if (idx[k] < 0) continue;
    const T* s = states + idx[k] * step_stride + b * row_stride;
    for (int64_t j = 0; j < H; ++j) out[j] += w[k] * s[j];
  }
}

// Backward of combined = sum_k w_k s_k with w = softmax(s_k . W), at row b: adds the
// gradients of the states s_k = S[idx[k]] into acc (same layout as S) and of W into dW.
template <typename T>
void mix_backward(const T* states, int64_t row_stride, int64_t step_stride,
                  const std::vector<int64_t>& idx, int64_t b, int64_t H, const T* w,
                  const T* grad, const T* W, T* acc, T* dW) {
  const int64_t K = idx.size();
  std::vector<T> d_e(K, T(0));
  if (W != nullptr) {
    T weighted = 0;
    std::vector<T> d_w(K, T(0));
    for (int64_t k = 0; k < K; ++k) {
      if (idx[k] < 0) continue;
      const T* s = states + idx[k] * step_stride + b * row_stride;
      T dot = 0;
      for (int64_t j = 0; j < H; ++j) dot += s[j] * grad[j];
      d_w[k] = dot;
      weighted += w[k] * dot;
    }
    for (int64_t k = 0; k < K; ++k) d_e[k] = w[k] * (d_w[k] - weighted);
  }
  for (int64_t k = 0; k < K; ++k) {
    if (idx[k] < 0) continue;
    const T* s = states + idx[k] * step_stride + b * row_stride;
    T* a = acc + idx[k] * step_stride + b * row_stride;
    for (int64_t j = 0; j < H; ++j) {
      a[j] += w[k] * grad[j];
      if (W != nullptr) {
        a[j] += d_e[k] * W[j];
        dW[j] += d_e[k] * s[j];
      }
    }
  }
}

template <typename T>
void forward_loop(const at::Tensor& gi, const at::Tensor& w_hh_t, const T* W, const Plan& plan,
                  at::Tensor& gates, at::Tensor& cells, at::Tensor& tanh_c, at::Tensor& out,
                  at::Tensor& h_prev, at::Tensor& c_prev, at::Tensor& w_c, at::Tensor& w_h) {
  const int64_t L = gi.size(0), B = gi.size(1), H = gi.size(2) / 4, K = plan.time_steps.size();
  T* gate_p = gates.data_ptr<T>();
  T* cell_p = cells.data_ptr<T>();
  T* out_p = out.data_ptr<T>();
  T* hp_p = h_prev.data_ptr<T>();
  T* cp_p = c_prev.data_ptr<T>();
  T* wc_p = w_c.data_ptr<T>();
  T* wh_p = w_h.data_ptr<T>();
  const T* tanh_p = tanh_c.data_ptr<T>();
  const int64_t step = B * H;  // stride of a step in the (L, B, H) buffers
  const auto gi_l = gi.unbind(0), gate_l = gates.unbind(0), hp_l = h_prev.unbind(0);
  const auto cell_l = cells.unbind(0);
  auto tanh_l = tanh_c.unbind(0);
  at::Tensor c_comb = gi.new_empty({B, H});  // C'_t at a combining step
  T* comb_p = c_comb.data_ptr<T>();
  std::vector<T> h_comb(H);
  for (int64_t t = 0; t < L; ++t) {
    at::Tensor gate_t = gate_l[t];
    at::addmm_out(gate_t, gi_l[t], hp_l[t], w_hh_t);  // eq. 7's pre-activations
    // transcendental functions through ATen's vectorised kernels, the rest fused here
    gate_t.narrow(1, 0, 3 * H).sigmoid_();
    gate_t.narrow(1, 3 * H, H).tanh_();
    const bool mix = plan.combines(t);
    const bool last = t + 1 == L;
    for (int64_t b = 0; b < B; ++b) {
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T* cp = cp_p + t * step + b * H;
      T* c = cell_p + t * step + b * H;
      for (int64_t j = 0; j < H; ++j) c[j] = g4[2 * H + j] * cp[j] + g4[H + j] * g4[3 * H + j];  // eq. 6
    }
    if (!mix) {
      at::tanh_out(tanh_l[t], cell_l[t]);
      for (int64_t b = 0; b < B; ++b) {
        const T* g4 = gate_p + (t * B + b) * 4 * H;
        const T* tc = tanh_p + t * step + b * H;
        T* h = out_p + t * step + b * H;
        for (int64_t j = 0; j < H; ++j) h[j] = g4[j] * tc[j];
      }
      if (!last) {  // the state step t + 1 reads
        std::copy(out_p + t * step, out_p + (t + 1) * step, hp_p + (t + 1) * step);
        std::copy(cell_p + t * step, cell_p + (t + 1) * step, cp_p + (t + 1) * step);
      }
      continue;
    }
    const auto idx = plan.lookbacks(t);
    for (int64_t b = 0; b < B; ++b) {
      T* wc = wc_p + (t * B + b) * K;
      mix_weights(cell_p, H, step, idx, b, H, W, wc);  // eq. 9
      mix_states(cell_p, H, step, idx, b, H, wc, comb_p + b * H);  // eq. 8
    }
    at::tanh_out(tanh_l[t], c_comb);
    for (int64_t b = 0; b < B; ++b) {
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T* tc = tanh_p + t * step + b * H;
      T* h = out_p + t * step + b * H;
      for (int64_t j = 0; j < H; ++j) h[j] = g4[j] * tc[j];  // eq. 10
      T* wh = wh_p + (t * B + b) * K;
      mix_weights(out_p, H, step, idx, b, H, W, wh);  // eq. 12 (reads this row's h_t)
      mix_states(out_p, H, step, idx, b, H, wh, h_comb.data());  // eq. 11
      if (!last) {
        std::copy(h_comb.begin(), h_comb.end(), hp_p + (t + 1) * step + b * H);
        std::copy(comb_p + b * H, comb_p + (b + 1) * H, cp_p + (t + 1) * step + b * H);
      }
    }
  }
}

template <typename T>
void backward_loop(const at::Tensor& d_out, const at::Tensor& w_hh, const T* W, const Plan& plan,
                   const at::Tensor& gates, const at::Tensor& cells, const at::Tensor& tanh_c,
                   const at::Tensor& out, const at::Tensor& c_prev, const at::Tensor& w_c,
                   const at::Tensor& w_h, at::Tensor& d_gates, at::Tensor& d_hc, at::Tensor& d_cc,
                   T* dW) {
  const int64_t L = gates.size(0), B = gates.size(1), H = gates.size(2) / 4,
                K = plan.time_steps.size();
  const int64_t step = B * H;
  const T* gate_p = gates.data_ptr<T>();
  const T* cell_p = cells.data_ptr<T>();
  const T* tanh_p = tanh_c.data_ptr<T>();
  const T* out_p = out.data_ptr<T>();
  const T* cp_p = c_prev.data_ptr<T>();
  const T* wc_p = w_c.data_ptr<T>();
  const T* wh_p = w_h.data_ptr<T>();
  const T* dout_p = d_out.data_ptr<T>();
  T* dz_p = d_gates.data_ptr<T>();
  T* dhc_p = d_hc.data_ptr<T>();  // dL/dh'_t, from step t + 1
  T* dcc_p = d_cc.data_ptr<T>();  // dL/dC'_t, from step t + 1
  // gradients sent back to h_t / C_t by the combinations that read them
  at::Tensor acc_h = at::zeros_like(out), acc_c = at::zeros_like(cells);
  T* acch_p = acc_h.data_ptr<T>();
  T* accc_p = acc_c.data_ptr<T>();
  std::vector<T> d_h(H), d_c(H), grad(H);
  auto dz_l = d_gates.unbind(0);
  for (int64_t t = L - 1; t >= 0; --t) {
    const bool mix = plan.combines(t);
    const auto idx = mix ? plan.lookbacks(t) : std::vector<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T* tc = tanh_p + t * step + b * H;
      const T* dout = dout_p + t * step + b * H;
      T* dhc = dhc_p + b * H;
      T* dcc = dcc_p + b * H;
      T* acch = acch_p + t * step + b * H;
      T* accc = accc_p + t * step + b * H;
      if (mix) {  // eqs. 11-12, then 8-10
        mix_backward(out_p, H, step, idx, b, H, wh_p + (t * B + b) * K, dhc, W, acch_p, dW);
        for (int64_t j = 0; j < H; ++j) {
          d_h[j] = dout[j] + acch[j];
          grad[j] = dcc[j] + d_h[j] * g4[j] * (T(1) - tc[j] * tc[j]);
        }
        mix_backward(cell_p, H, step, idx, b, H, wc_p + (t * B + b) * K, grad.data(), W,
                     accc_p, dW);
        for (int64_t j = 0; j < H; ++j) d_c[j] = accc[j];
      } else {
        for (int64_t j = 0; j < H; ++j) {
          d_h[j] = dout[j] + dhc[j] + acch[j];
          d_c[j] = dcc[j] + d_h[j] * g4[j] * (T(1) - tc[j] * tc[j]) + accc[j];
        }
      }
      const T* cp = cp_p + t * step + b * H;
      T* dz = dz_p + (t * B + b) * 4 * H;
      for (int64_t j = 0; j < H; ++j) {
        const T o = g4[j], i = g4[H + j], f = g4[2 * H + j], g = g4[3 * H + j];
        dz[j] = d_h[j] * tc[j] * o * (T(1) - o);
        dz[H + j] = d_c[j] * g * i * (T(1) - i);
        dz[2 * H + j] = d_c[j] * cp[j] * f * (T(1) - f);
        dz[3 * H + j] = d_c[j] * i * (T(1) - g * g);
        dcc[j] = d_c[j] * f;
      }
    }
    at::mm_out(d_hc, dz_l[t], w_hh);  // dL/dh'_{t-1}
  }
}

Plan make_plan(std::vector<int64_t> time_steps, int64_t every, bool combine) {
  TORCH_CHECK(every >= 1, "combine_every must be >= 1, got ", every);
  return Plan{std::move(time_steps), every, combine};
}

// Returns (out, gates, cells, tanh_c, h_prev, c_prev, w_c, w_h); see forward_loop.
std::vector<at::Tensor> alstm_forward(const at::Tensor& gi, const at::Tensor& h0,
                                      const at::Tensor& c0, const at::Tensor& w_hh,
                                      const c10::optional<at::Tensor>& W,
                                      std::vector<int64_t> time_steps, int64_t every,
                                      bool combine) {
  TORCH_CHECK(gi.dim() == 3 && gi.is_contiguous(), "gi must be a contiguous (L, B, 4H) tensor");
  TORCH_CHECK(gi.device().is_cpu(), "the compiled A-LSTM loop runs on the CPU");
  const Plan plan = make_plan(std::move(time_steps), every, combine);
  const int64_t L = gi.size(0), B = gi.size(1), H = gi.size(2) / 4, K = plan.time_steps.size();
  at::Tensor gates = at::empty_like(gi);
  at::Tensor cells = gi.new_empty({L, B, H});
  at::Tensor tanh_c = gi.new_empty({L, B, H});
  at::Tensor out = gi.new_empty({L, B, H});
  at::Tensor h_prev = gi.new_empty({L, B, H});
  at::Tensor c_prev = gi.new_empty({L, B, H});
  at::Tensor w_c = gi.new_zeros({L, B, K});
  at::Tensor w_h = gi.new_zeros({L, B, K});
  if (L == 0) return {out, gates, cells, tanh_c, h_prev, c_prev, w_c, w_h};
  h_prev[0].copy_(h0);
  c_prev[0].copy_(c0);
  at::Tensor w_hh_t = w_hh.t();
  at::Tensor w_vec = W.has_value() ? W->contiguous() : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "alstm_forward", [&] {
    forward_loop<scalar_t>(gi, w_hh_t, w_vec.defined() ? w_vec.data_ptr<scalar_t>() : nullptr,
                           plan, gates, cells, tanh_c, out, h_prev, c_prev, w_c, w_h);
  });
  return {out, gates, cells, tanh_c, h_prev, c_prev, w_c, w_h};
}

// Returns (d_gi, d_h0, d_c0, d_W); d_W is empty without W. The weight gradient of W_hh
// is one GEMM over all steps, left to the caller.
std::vector<at::Tensor> alstm_backward(const at::Tensor& d_out, const at::Tensor& w_hh,
                                       const c10::optional<at::Tensor>& W,
                                       const at::Tensor& gates, const at::Tensor& cells,
                                       const at::Tensor& tanh_c, const at::Tensor& out,
                                       const at::Tensor& c_prev, const at::Tensor& w_c,
                                       const at::Tensor& w_h, std::vector<int64_t> time_steps,
                                       int64_t every, bool combine) {
  const Plan plan = make_plan(std::move(time_steps), every, combine);
  const int64_t B = gates.size(1), H = gates.size(2) / 4;
  at::Tensor grad_out = d_out.contiguous();
  at::Tensor d_gates = at::empty_like(gates);
  at::Tensor d_hc = gates.new_zeros({B, H});
  at::Tensor d_cc = gates.new_zeros({B, H});
  at::Tensor w_vec = W.has_value() ? W->contiguous() : at::Tensor();
  at::Tensor d_W = w_vec.defined() ? at::zeros_like(w_vec) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "alstm_backward", [&] {
    backward_loop<scalar_t>(grad_out, w_hh.contiguous(),
                            w_vec.defined() ? w_vec.data_ptr<scalar_t>() : nullptr, plan, gates,
                            cells, tanh_c, out, c_prev, w_c, w_h, d_gates, d_hc, d_cc,
                            d_W.defined() ? d_W.data_ptr<scalar_t>() : nullptr);
  });
  return {d_gates, d_hc, d_cc, d_W};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &alstm_forward, "A-LSTM forward loop (L, B, 4H gate inputs)");
  m.def("backward", &alstm_backward, "A-LSTM backward through time");
}
