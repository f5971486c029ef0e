#include "transformer_block.h"

#include <memtide/annotate.h>

namespace engine {

Tensor add(const Tensor& a, const Tensor& b, Context& ctx) {
  if (!(a.shape() == b.shape())) {
    throw std::invalid_argument("add: shapes differ " + a.shape().str() + " " + b.shape().str());
  }
  Tensor y = Tensor::empty(a.shape(), ctx.dtype, ctx.alloc);
  F32Read x1(a), x2(b);
  F32Write out(y);
  for (int64_t i = 0; i < y.numel(); ++i) out.data()[i] = x1.data()[i] + x2.data()[i];
  out.commit();
  return y;
}

// Constructed in declaration order, so parameters are drawn from rng in the same order whether
// or not the block is fused or sparse.
TransformerBlock::TransformerBlock(Context& ctx, int64_t c, int64_t heads, Rng& rng, bool fuse,
                                   float density)
    : Layer(ctx),
      c_(c),
      ln_1_(ctx, c),
      qkv_(ctx, c, 3 * c, rng, Activation::None, density),
      attn_(ctx, c, heads),
      proj_(ctx, c, c, rng, Activation::None, density),
      ln_2_(ctx, c),
      fc_(ctx, c, 4 * c, rng, fuse ? Activation::GELU : Activation::None, density),
      gelu_(fuse ? nullptr : std::make_unique<GELU>(ctx)),
      fc_proj_(ctx, 4 * c, c, rng, Activation::None, density) {}

std::string TransformerBlock::describe() const {
  return "TransformerBlock(C=" + std::to_string(c_) + ", " + attn_.describe() + ", " +
         fc_.describe() + ")";
}

Tensor TransformerBlock::forward(const Tensor& x) {
  Tensor h;
  {
    MEMTIDE_SCOPE("ln_1");
    h = ln_1_.forward(x);
  }
  {
    MEMTIDE_SCOPE("attn.qkv");
    h = qkv_.forward(h);
  }
  {
    MEMTIDE_SCOPE("attn");
    h = attn_.forward(h);
  }
  {
    MEMTIDE_SCOPE("attn.proj");
    h = proj_.forward(h);
  }
  Tensor x2 = add(x, h, ctx_);
  {
    MEMTIDE_SCOPE("ln_2");
    h = ln_2_.forward(x2);
  }
  {
    MEMTIDE_SCOPE("mlp.fc");
    h = fc_.forward(h);
  }
  if (gelu_) {
    MEMTIDE_SCOPE("mlp.gelu");
    h = gelu_->forward(h);
  }
  {
    MEMTIDE_SCOPE("mlp.proj");
    h = fc_proj_.forward(h);
  }
  return add(x2, h, ctx_);
}

Tensor TransformerBlock::backward(const Tensor& dy) {
  // The residual passes dy straight through; each branch adds its own gradient to it.
  Tensor g;
  {
    MEMTIDE_SCOPE("mlp.proj");
    g = fc_proj_.backward(dy);
  }
  if (gelu_) {
    MEMTIDE_SCOPE("mlp.gelu");
    g = gelu_->backward(g);
  }
  {
    MEMTIDE_SCOPE("mlp.fc");
    g = fc_.backward(g);
  }
  {
    MEMTIDE_SCOPE("ln_2");
    g = ln_2_.backward(g);
  }
  Tensor dx2 = add(dy, g, ctx_);
  {
    MEMTIDE_SCOPE("attn.proj");
    g = proj_.backward(dx2);
  }
  {
    MEMTIDE_SCOPE("attn");
    g = attn_.backward(g);
  }
  {
    MEMTIDE_SCOPE("attn.qkv");
    g = qkv_.backward(g);
  }
  {
    MEMTIDE_SCOPE("ln_1");
    g = ln_1_.backward(g);
  }
  return add(dx2, g, ctx_);
}

void TransformerBlock::release_saved() {
  ln_1_.release_saved();
  qkv_.release_saved();
  attn_.release_saved();
  proj_.release_saved();
  ln_2_.release_saved();
  fc_.release_saved();
  if (gelu_) gelu_->release_saved();
  fc_proj_.release_saved();
}

void TransformerBlock::collect_params(std::vector<Param*>& out) {
  for (Layer* l :
       {static_cast<Layer*>(&ln_1_), static_cast<Layer*>(&qkv_), static_cast<Layer*>(&proj_),
        static_cast<Layer*>(&ln_2_), static_cast<Layer*>(&fc_), static_cast<Layer*>(&fc_proj_)}) {
    l->collect_params(out);
  }
}

size_t TransformerBlock::param_bytes() {
  return ln_1_.param_bytes() + qkv_.param_bytes() + proj_.param_bytes() + ln_2_.param_bytes() +
         fc_.param_bytes() + fc_proj_.param_bytes();
}

void TransformerBlock::quantize_int8() {
  qkv_.quantize_int8();
  proj_.quantize_int8();
  fc_.quantize_int8();
  fc_proj_.quantize_int8();
}

}  // namespace engine
