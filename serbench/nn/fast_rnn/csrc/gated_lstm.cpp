// The GCA-LSTM's informativeness-gated LSTM (Li et al., IJCAI 2019, eq. 11): forward and
// hand-written backward through time as compiled per-step loops.
//
// Same maths, buffers and gate order (o, i, f, g) as the ATen loop of
// serbench/nn/fast_rnn/gated_lstm.py (its docstrings carry the equations); this file
// only removes the per-step Python dispatch. Per step: one GEMM and the vectorised
// sigmoid/tanh through ATen, the cell update and every backward coefficient in one pass
// written here. Rows are frozen past their length (state kept, output zero).
// Shapes: L steps, B batch rows, H hidden units.

#include <torch/extension.h>

#include <algorithm>
#include <vector>

namespace {

template <typename T>
void forward_loop(const at::Tensor& gi, const at::Tensor& r, const std::vector<int64_t>& len,
                  const at::Tensor& w_hh_t, at::Tensor& gates, at::Tensor& hs, at::Tensor& cs,
                  at::Tensor& tanh_c, at::Tensor& out) {
  const int64_t L = gi.size(0), B = gi.size(1), H = gi.size(2) / 4;
  const int64_t step = B * H;
  const T* r_p = r.data_ptr<T>();  // (L, B)
  T* gate_p = gates.data_ptr<T>();
  T* hs_p = hs.data_ptr<T>();
  T* cs_p = cs.data_ptr<T>();
  T* out_p = out.data_ptr<T>();
  const T* tanh_p = tanh_c.data_ptr<T>();
  const auto gi_l = gi.unbind(0), gate_l = gates.unbind(0), hs_l = hs.unbind(0);
  const auto cs_l = cs.unbind(0);
  auto tanh_l = tanh_c.unbind(0);
  for (int64_t t = 0; t < L; ++t) {
    at::Tensor gate_t = gate_l[t];
    at::addmm_out(gate_t, gi_l[t], hs_l[t], w_hh_t);
    gate_t.narrow(1, 0, 3 * H).sigmoid_();
    gate_t.narrow(1, 3 * H, H).tanh_();
    for (int64_t b = 0; b < B; ++b) {  // eq. 11 into c_{t+1}
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T rt = r_p[t * B + b];
      const T* cp = cs_p + t * step + b * H;
      T* cn = cs_p + (t + 1) * step + b * H;
      for (int64_t j = 0; j < H; ++j)
        cn[j] = (T(1) - rt) * g4[2 * H + j] * cp[j] + rt * g4[H + j] * g4[3 * H + j];
    }
    at::tanh_out(tanh_l[t], cs_l[t + 1]);
    for (int64_t b = 0; b < B; ++b) {
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T* tc = tanh_p + t * step + b * H;
      T* hn = hs_p + (t + 1) * step + b * H;
      T* o = out_p + t * step + b * H;
      if (t < len[b]) {
        for (int64_t j = 0; j < H; ++j) o[j] = hn[j] = g4[j] * tc[j];
      } else {  // frozen: keep the state, output zero
        std::copy(hs_p + t * step + b * H, hs_p + t * step + (b + 1) * H, hn);
        std::copy(cs_p + t * step + b * H, cs_p + t * step + (b + 1) * H,
                  cs_p + (t + 1) * step + b * H);
        std::fill(o, o + H, T(0));
      }
    }
  }
}

template <typename T>
void backward_loop(const T* dout_p, const at::Tensor& w_hh, const at::Tensor& r,
                   const std::vector<int64_t>& len, const at::Tensor& gates, const at::Tensor& cs,
                   const at::Tensor& tanh_c, at::Tensor& d_gates, at::Tensor& d_r,
                   at::Tensor& dh, at::Tensor& dc) {
  const int64_t L = gates.size(0), B = gates.size(1), H = gates.size(2) / 4;
  const int64_t step = B * H;
  const T* r_p = r.data_ptr<T>();
  const T* gate_p = gates.data_ptr<T>();
  const T* cs_p = cs.data_ptr<T>();
  const T* tanh_p = tanh_c.data_ptr<T>();
  T* dz_p = d_gates.data_ptr<T>();
  T* dr_p = d_r.data_ptr<T>();
  T* dc_p = dc.data_ptr<T>();
  at::Tensor dh_next = at::empty_like(dh);  // dL/dh_{t-1}, while dh holds dL/dh_t
  auto dz_l = d_gates.unbind(0);
  for (int64_t t = L - 1; t >= 0; --t) {
    const T* dh_p = dh.data_ptr<T>();
    for (int64_t b = 0; b < B; ++b) {
      T* dz = dz_p + (t * B + b) * 4 * H;
      T* dcb = dc_p + b * H;
      if (t >= len[b]) {  // frozen row: its gradients pass to the previous state unchanged
        std::fill(dz, dz + 4 * H, T(0));
        dr_p[t * B + b] = 0;
        continue;
      }
      const T* g4 = gate_p + (t * B + b) * 4 * H;
      const T* tc = tanh_p + t * step + b * H;
      const T* cp = cs_p + t * step + b * H;  // c_{t-1}
      const T* dob = dout_p != nullptr ? dout_p + t * step + b * H : nullptr;
      const T* dhb = dh_p + b * H;
      const T rt = r_p[t * B + b];
      T d_r = 0;
      for (int64_t j = 0; j < H; ++j) {
        const T o = g4[j], i = g4[H + j], f = g4[2 * H + j], g = g4[3 * H + j];
        const T g_h = dhb[j] + (dob != nullptr ? dob[j] : T(0));
        const T d_c = dcb[j] + g_h * o * (T(1) - tc[j] * tc[j]);
        dz[j] = g_h * tc[j] * o * (T(1) - o);
        dz[H + j] = d_c * g * rt * i * (T(1) - i);
        dz[2 * H + j] = d_c * cp[j] * (T(1) - rt) * f * (T(1) - f);
        dz[3 * H + j] = d_c * i * rt * (T(1) - g * g);
        d_r += d_c * (i * g - f * cp[j]);
        dcb[j] = d_c * f * (T(1) - rt);
      }
      dr_p[t * B + b] = d_r;
    }
    at::mm_out(dh_next, dz_l[t], w_hh);
    T* dn_p = dh_next.data_ptr<T>();
    for (int64_t b = 0; b < B; ++b) {
      if (t >= len[b]) {  // dz was zero: carry dL/dh_t through
        for (int64_t j = 0; j < H; ++j) dn_p[b * H + j] += dh_p[b * H + j];
      }
    }
    std::swap(dh, dh_next);
  }
}

std::vector<int64_t> to_lengths(const at::Tensor& lengths) {
  at::Tensor l = lengths.to(at::kLong).contiguous().cpu();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

// r: (L, B) time-major; lengths: (B,). Returns (out, h_last, c_last, gates, hs, cs, tanh_c),
// hs and cs (L + 1, B, H) holding the initial state first.
std::vector<at::Tensor> gated_forward(const at::Tensor& gi, const at::Tensor& r,
                                      const at::Tensor& lengths, const at::Tensor& h0,
                                      const at::Tensor& c0, const at::Tensor& w_hh) {
  TORCH_CHECK(gi.dim() == 3 && gi.is_contiguous(), "gi must be a contiguous (L, B, 4H) tensor");
  TORCH_CHECK(gi.device().is_cpu(), "the compiled gated-LSTM loop runs on the CPU");
  const int64_t L = gi.size(0), B = gi.size(1), H = gi.size(2) / 4;
  const auto len = to_lengths(lengths);
  TORCH_CHECK(static_cast<int64_t>(len.size()) == B, "lengths must have one entry per row");
  at::Tensor gates = at::empty_like(gi);
  at::Tensor hs = gi.new_empty({L + 1, B, H});
  at::Tensor cs = gi.new_empty({L + 1, B, H});
  at::Tensor tanh_c = gi.new_empty({L, B, H});
  at::Tensor out = gi.new_empty({L, B, H});
  hs[0].copy_(h0);
  cs[0].copy_(c0);
  at::Tensor r_tm = r.contiguous();
  AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "gated_forward", [&] {
    forward_loop<scalar_t>(gi, r_tm, len, w_hh.t(), gates, hs, cs, tanh_c, out);
  });
  return {out, hs[L].clone(), cs[L].clone(), gates, hs, cs, tanh_c};
}

// d_out / d_h_last / d_c_last may be absent (no gradient). Returns (d_gi, d_r (L, B), d_h0,
// d_c0); the gradient of W_hh is one GEMM over all steps, left to the caller.
std::vector<at::Tensor> gated_backward(const c10::optional<at::Tensor>& d_out,
                                       const c10::optional<at::Tensor>& d_h_last,
                                       const c10::optional<at::Tensor>& d_c_last,
                                       const at::Tensor& w_hh, const at::Tensor& r,
                                       const at::Tensor& lengths, const at::Tensor& gates,
                                       const at::Tensor& cs, const at::Tensor& tanh_c) {
  const int64_t L = gates.size(0), B = gates.size(1), H = gates.size(2) / 4;
  const auto len = to_lengths(lengths);
  at::Tensor grad_out = d_out.has_value() ? d_out->contiguous() : at::Tensor();
  at::Tensor dh = d_h_last.has_value() ? d_h_last->clone().contiguous() : gates.new_zeros({B, H});
  at::Tensor dc = d_c_last.has_value() ? d_c_last->clone().contiguous() : gates.new_zeros({B, H});
  at::Tensor d_gates = at::empty_like(gates);
  at::Tensor d_r = gates.new_empty({L, B});
  at::Tensor r_tm = r.contiguous();
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "gated_backward", [&] {
    backward_loop<scalar_t>(grad_out.defined() ? grad_out.data_ptr<scalar_t>() : nullptr,
                            w_hh.contiguous(), r_tm, len, gates, cs, tanh_c, d_gates, d_r, dh, dc);
  });
  return {d_gates, d_r, dh, dc};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &gated_forward, "gated LSTM forward loop (L, B, 4H gate inputs)");
  m.def("backward", &gated_backward, "gated LSTM backward through time");
}
